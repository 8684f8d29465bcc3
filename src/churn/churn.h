/*-------------------------------------------------------------------------
 *
 * churn.h
 *		Predictive churn: columnar training data, models (logistic
 *		regression and histogram gradient-boosted trees), metrics, scoring.
 *
 * Data flow:
 *	churn_data.c	 loads a query's rows through an SPI cursor into columns
 *					 (float8 arrays for numbers, int32 codes for text), all in
 *					 one memory context, growing by doubling: no per-row
 *					 allocation.
 *	churn_logreg.c	 standardised, L2-penalised logistic regression (Newton).
 *	churn_gbt.c		 histogram gradient boosting with second-order gains.
 *	churn_train.c	 options, validation split, model selection by AUC, refit.
 *	churn_metrics.c	 AUC, log loss, confusion matrix, calibration, curve.
 *	churn_model_io.c binary (bytea) form of a model and its JSON summary.
 *	churn_score.c	 probability and per-feature contributions of rows.
 *	churn_worker.c	 training in a dynamic background worker with progress.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STRATUM_CHURN_H
#define STRATUM_CHURN_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#define CHURN_MAX_LEVEL_LEN		256		/* bytes of a category value, NUL included */
#define CHURN_MISSING_BIN		255		/* tree bin of a missing value */
#define CHURN_MAX_BINS			255		/* real bins per feature, at most */

typedef enum ChurnColumnKind
{
	CHURN_NUMERIC = 0,
	CHURN_CATEGORICAL = 1
} ChurnColumnKind;

typedef enum ChurnAlgorithm
{
	CHURN_LOGREG = 1,
	CHURN_GBT = 2
} ChurnAlgorithm;

/* One feature column of the loaded data. */
typedef struct ChurnColumn
{
	char	   *name;
	ChurnColumnKind kind;
	double	   *num;			/* numeric: value, NaN when missing */
	int32	   *cat;			/* categorical: level code, -1 when missing */
	int			nlevels;
	char	  **levels;			/* level text by code */
	struct HTAB *dict;			/* level text -> code, while loading */
	bool		fixed_levels;	/* levels come from a model: unseen -> missing */
	int			max_levels;
} ChurnColumn;

/* Rows of a query, by column. */
typedef struct ChurnData
{
	MemoryContext cxt;
	int			ncols;
	ChurnColumn *cols;
	int64		nrows;
	int64		capacity;
	uint8	   *label;			/* 0/1, or NULL when loaded without label */
	int64	   *key;			/* key column values, or NULL */
	char	   *positive;		/* the label value read as churn (text labels) */
} ChurnData;

/* What to load. */
typedef struct ChurnLoadSpec
{
	const char *query;
	const char *label;			/* NULL: no label */
	const char *key;			/* NULL: no key column */
	const char *positive;		/* text label value meaning "churned", or NULL */
	char	  **exclude;		/* column names not to use as features */
	int			nexclude;
	int			max_categories;
	struct ChurnModel *model;	/* scoring: load exactly the model's features */
} ChurnLoadSpec;

/* One feature of a fitted model: encoding and parameters. */
typedef struct ChurnFeature
{
	char	   *name;
	ChurnColumnKind kind;
	int			nlevels;
	char	  **levels;
	/* logistic regression */
	double		median;			/* imputed for missing numbers */
	double		mean;
	double		std;
	double		coef;
	bool		has_indicator;	/* a missing-value indicator column */
	double		ind_mean;
	double		ind_std;
	double		ind_coef;
	double	   *level_mean;		/* one-hot columns, per level */
	double	   *level_std;
	double	   *level_coef;
	/* trees */
	int			nedges;
	double	   *edges;			/* bin i holds edges[i-1] < x <= edges[i] */
	double		importance;		/* total split gain */
} ChurnFeature;

/* One regression tree; node 0 is the root. */
typedef struct ChurnTree
{
	int			nnodes;
	int32	   *feature;		/* -1 for a leaf */
	int32	   *bin;			/* numeric: bin <= this goes left */
	uint8	   *missing_left;
	int32	   *left;
	int32	   *right;
	double	   *value;			/* node output (leaves) / expectation (inner) */
	uint64	   *catset;			/* 4 words per node: categorical levels going left */
} ChurnTree;

typedef struct ChurnModel
{
	ChurnAlgorithm algorithm;
	int			nfeatures;
	ChurnFeature *features;
	double		intercept;		/* logreg intercept, or trees' base score */
	int			ntrees;
	ChurnTree  *trees;
	/* trees laid out for scoring; churn_gbt.c builds it on first use */
	struct ChurnGbtScorer *scorer;
} ChurnModel;

/* A logistic regression folded for fast scoring (churn_logreg_compile). */
typedef struct ChurnLinear
{
	int			nfeatures;
	double		base;			/* logit of a row with every numeric x = 0 */
	double	   *scale;			/* numeric: logit per unit of x */
	double	   *missing;		/* numeric: logit of a missing x, less base */
	double	  **table;			/* categorical: logit by level code + 1 (0: missing) */
} ChurnLinear;

/* Hyper-parameters and options of one training run. */
typedef struct ChurnParams
{
	char	   *algorithm;		/* auto, logreg, gbt */
	int			seed;
	double		validation_fraction;
	bool		refit;
	bool		drop_constant;
	int			max_categories;
	double	   *lr_c;			/* inverse L2 strengths to try */
	int			n_lr_c;
	int			lr_max_iter;
	double		gbt_learning_rate;
	int			gbt_max_iter;
	int			gbt_max_leaves;
	int			gbt_max_depth;
	int			gbt_min_leaf;
	double		gbt_l2;
	int			gbt_max_bins;
	int			gbt_early_stopping;
	double		gbt_min_gain_se;	/* auto: trees must beat logreg by this many SEs */
	double		gbt_min_gain;	/* auto: ... and by at least this much AUC */
} ChurnParams;

/* Progress reporting while training (the worker commits it). */
typedef void (*ChurnProgressFn) (void *arg, const char *phase, int64 rows, int iteration);

typedef struct ChurnProgress
{
	ChurnProgressFn fn;
	void	   *arg;
} ChurnProgress;

static inline void
churn_progress(ChurnProgress *p, const char *phase, int64 rows, int iteration)
{
	if (p && p->fn)
		p->fn(p->arg, phase, rows, iteration);
}

/* The outcome of a training run, ready to be stored. */
typedef struct ChurnTrainResult
{
	ChurnModel *model;
	bytea	   *model_bytes;
	char	   *feature_spec;	/* JSON text */
	char	   *metrics;		/* JSON text */
	int64		rows;
	double		training_ms;
} ChurnTrainResult;

/* churn_data.c */
extern ChurnData *churn_data_load(ChurnLoadSpec *spec, MemoryContext parent);
extern void churn_data_check(ChurnData *data, bool drop_constant);
extern bool churn_is_numeric_type(Oid t);
extern bool churn_is_text_type(Oid t);
extern double churn_datum_to_double(Datum d, Oid t);
extern double churn_numeric_to_double(Datum d);

/* churn_logreg.c */
extern ChurnModel *churn_logreg_fit(ChurnData *data, const int64 *rows, int64 n,
									double C, int max_iter, ChurnProgress *progress);
extern double churn_logreg_logit(const ChurnModel *m, const ChurnData *data, int64 row,
								 double *contrib);
extern ChurnLinear *churn_logreg_compile(const ChurnModel *m);

/* churn_gbt.c */
extern ChurnModel *churn_gbt_fit(ChurnData *data, const int64 *train, int64 ntrain,
								 const int64 *valid, int64 nvalid, const ChurnParams *p,
								 int max_iter, int *best_iter, ChurnProgress *progress);
extern double churn_gbt_logit(const ChurnModel *m, const ChurnData *data, int64 row,
							  double *contrib);

/* churn_score.c */
extern double churn_model_logit(const ChurnModel *m, const ChurnData *data, int64 row,
								double *contrib);
extern double churn_sigmoid(double z);
extern Jsonb *churn_factors_jsonb(const ChurnModel *m, const ChurnData *data, int64 row,
								  const double *contrib, int top);

/* churn_metrics.c */
extern void churn_metrics_json(StringInfo buf, const double *prob, const uint8 *label,
							   int64 n, double threshold);
extern double churn_auc(const double *prob, const uint8 *label, int64 n);
extern double churn_auc_se(double auc, int64 npos, int64 nneg);
extern double churn_log_loss(const double *prob, const uint8 *label, int64 n);

/* churn_model_io.c */
extern bytea *churn_model_serialize(const ChurnModel *m);
extern ChurnModel *churn_model_deserialize(bytea *b);
extern void churn_model_spec_json(StringInfo buf, const ChurnModel *m);
extern ChurnModel *churn_model_fetch(int64 model_id);

/* churn_train.c */
extern void churn_params_from_jsonb(ChurnParams *p, Jsonb *options);
extern void churn_prepare_load(ChurnLoadSpec *spec, ChurnParams *p, Jsonb *options);
extern ChurnTrainResult *churn_train_run(ChurnData *data, const ChurnParams *p,
										 ChurnProgress *progress);
extern int64 churn_store_model(const char *tenant, const char *source, const char *label,
							   Jsonb *options, ChurnTrainResult *r, int64 run_id,
							   Datum trained_from, bool from_null, Datum trained_to, bool to_null);

/* utility */
extern void churn_json_string(StringInfo buf, const char *s);
extern void churn_json_number(StringInfo buf, double v);

#endif							/* STRATUM_CHURN_H */
