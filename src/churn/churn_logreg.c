/*-------------------------------------------------------------------------
 *
 * churn_logreg.c
 *		Logistic regression with standardised features and an L2 penalty,
 *		fitted by Newton's method (iteratively reweighted least squares).
 *
 * Encoding: a numeric feature is one column, its missing values imputed by
 * the training median, plus a 0/1 "was missing" indicator column when the
 * training rows have missing values; a text feature is one 0/1 column per
 * level (missing: all zero).  Every column is then standardised with the
 * training mean and standard deviation.  The objective is the one of
 * scikit-learn's LogisticRegression(C):
 *
 *		sum_i logloss(y_i, b0 + w.x_i) + ||w||^2 / (2 C)
 *
 * (intercept not penalised).  The design matrix is never materialised: each
 * Newton pass builds a row's standardised vector in a small buffer from the
 * columns and accumulates the gradient and Hessian, so memory is O(p^2)
 * beyond the data itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "churn/churn.h"

/*
 * compare_double
 *		qsort comparator for doubles.
 */
static int
compare_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * logreg_width
 *		Number of design columns of a fitted (or being fitted) model.
 */
static int
logreg_width(const ChurnModel *m)
{
	int			p = 0;
	int			f;

	for (f = 0; f < m->nfeatures; f++)
	{
		const ChurnFeature *ft = &m->features[f];

		if (ft->kind == CHURN_NUMERIC)
			p += 1 + (ft->has_indicator ? 1 : 0);
		else
			p += ft->nlevels;
	}
	return p;
}

/*
 * logreg_row
 *		The standardised design vector of one row, into x[0..p-1].
 */
static void
logreg_row(const ChurnModel *m, const ChurnData *d, int64 row, double *x)
{
	int			j = 0;
	int			f;

	for (f = 0; f < m->nfeatures; f++)
	{
		const ChurnFeature *ft = &m->features[f];
		const ChurnColumn *c = &d->cols[f];

		if (ft->kind == CHURN_NUMERIC)
		{
			double		v = c->num[row];
			bool		miss = isnan(v);

			x[j++] = ((miss ? ft->median : v) - ft->mean) / ft->std;
			if (ft->has_indicator)
				x[j++] = ((miss ? 1.0 : 0.0) - ft->ind_mean) / ft->ind_std;
		}
		else
		{
			int32		code = c->cat[row];
			int			l;

			for (l = 0; l < ft->nlevels; l++)
				x[j++] = ((code == l ? 1.0 : 0.0) - ft->level_mean[l]) / ft->level_std[l];
		}
	}
}

/*
 * logreg_encode
 *		A model skeleton with the encoding learnt from the given rows:
 *		medians, means, standard deviations (1 for constant columns, whose
 *		coefficient then stays 0).
 */
static ChurnModel *
logreg_encode(ChurnData *d, const int64 *rows, int64 n)
{
	ChurnModel *m = palloc0(sizeof(ChurnModel));
	double	   *buf = palloc_extended(sizeof(double) * Max(n, 1), MCXT_ALLOC_HUGE);
	int			f;

	m->algorithm = CHURN_LOGREG;
	m->nfeatures = d->ncols;
	m->features = palloc0(sizeof(ChurnFeature) * d->ncols);
	for (f = 0; f < d->ncols; f++)
	{
		ChurnColumn *c = &d->cols[f];
		ChurnFeature *ft = &m->features[f];
		int64		i,
					k = 0;

		ft->name = pstrdup(c->name);
		ft->kind = c->kind;
		if (c->kind == CHURN_NUMERIC)
		{
			double		s = 0,
						ss = 0;
			int64		nmiss;

			for (i = 0; i < n; i++)
				if (!isnan(c->num[rows[i]]))
					buf[k++] = c->num[rows[i]];
			nmiss = n - k;
			if (k > 0)
			{
				qsort(buf, k, sizeof(double), compare_double);
				ft->median = (k % 2) ? buf[k / 2] : (buf[k / 2 - 1] + buf[k / 2]) / 2;
			}
			for (i = 0; i < n; i++)
			{
				double		v = c->num[rows[i]];

				if (isnan(v))
					v = ft->median;
				s += v;
			}
			ft->mean = s / n;
			for (i = 0; i < n; i++)
			{
				double		v = c->num[rows[i]];

				if (isnan(v))
					v = ft->median;
				ss += (v - ft->mean) * (v - ft->mean);
			}
			ft->std = sqrt(ss / n);
			if (!(ft->std > 1e-12))
				ft->std = 1.0;
			if (nmiss > 0)
			{
				double		q = (double) nmiss / n;

				ft->has_indicator = true;
				ft->ind_mean = q;
				ft->ind_std = sqrt(q * (1 - q));
				if (!(ft->ind_std > 1e-12))
					ft->ind_std = 1.0;
			}
		}
		else
		{
			int			l;

			ft->nlevels = c->nlevels;
			ft->levels = palloc(sizeof(char *) * Max(c->nlevels, 1));
			ft->level_mean = palloc0(sizeof(double) * Max(c->nlevels, 1));
			ft->level_std = palloc0(sizeof(double) * Max(c->nlevels, 1));
			ft->level_coef = palloc0(sizeof(double) * Max(c->nlevels, 1));
			for (l = 0; l < c->nlevels; l++)
				ft->levels[l] = pstrdup(c->levels[l]);
			for (i = 0; i < n; i++)
				if (c->cat[rows[i]] >= 0)
					ft->level_mean[c->cat[rows[i]]] += 1;
			for (l = 0; l < c->nlevels; l++)
			{
				double		q = ft->level_mean[l] / n;

				ft->level_mean[l] = q;
				ft->level_std[l] = sqrt(q * (1 - q));
				if (!(ft->level_std[l] > 1e-12))
					ft->level_std[l] = 1.0;
			}
		}
	}
	pfree(buf);
	return m;
}

/*
 * cholesky_solve
 *		Solve A x = b for symmetric positive definite A (k x k, row-major,
 *		only the lower triangle is read), overwriting A with its factor and b
 *		with x.  Returns false if A is not positive definite.
 */
static bool
cholesky_solve(double *A, double *b, int k)
{
	int			i,
				j,
				l;

	for (j = 0; j < k; j++)
	{
		double		s = A[j * k + j];

		for (l = 0; l < j; l++)
			s -= A[j * k + l] * A[j * k + l];
		if (!(s > 0))
			return false;
		A[j * k + j] = sqrt(s);
		for (i = j + 1; i < k; i++)
		{
			double		t = A[i * k + j];

			for (l = 0; l < j; l++)
				t -= A[i * k + l] * A[j * k + l];
			A[i * k + j] = t / A[j * k + j];
		}
	}
	for (i = 0; i < k; i++)
	{
		double		t = b[i];

		for (l = 0; l < i; l++)
			t -= A[i * k + l] * b[l];
		b[i] = t / A[i * k + i];
	}
	for (i = k - 1; i >= 0; i--)
	{
		double		t = b[i];

		for (l = i + 1; l < k; l++)
			t -= A[l * k + i] * b[l];
		b[i] = t / A[i * k + i];
	}
	return true;
}

/*
 * log1pexp
 *		log(1 + exp(z)) without overflow.
 */
static inline double
log1pexp(double z)
{
	return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

/*
 * churn_logreg_fit
 *		Fit a standardised L2 logistic regression on the given rows with
 *		inverse regularisation strength C.  Deterministic: no randomness.
 */
ChurnModel *
churn_logreg_fit(ChurnData *d, const int64 *rows, int64 n, double C, int max_iter,
				 ChurnProgress *progress)
{
	ChurnModel *m = logreg_encode(d, rows, n);
	int			p = logreg_width(m);
	int			k = p + 1;
	double	   *beta = palloc0(sizeof(double) * k);
	double	   *prev = palloc0(sizeof(double) * k);
	double	   *step = palloc0(sizeof(double) * k);
	double	   *g = palloc0(sizeof(double) * k);
	double	   *H = palloc_extended(sizeof(double) * k * k, MCXT_ALLOC_HUGE);
	double	   *x = palloc0(sizeof(double) * k);
	double		prev_loss = INFINITY;
	double		pos = 0;
	int64		i;
	int			it,
				f,
				j;

	/* Start from the base rate. */
	for (i = 0; i < n; i++)
		pos += d->label[rows[i]];
	beta[0] = log((pos + 0.5) / (n - pos + 0.5));

	for (it = 0; it < max_iter; it++)
	{
		double		loss = 0;
		double		maxstep = 0;
		int			a,
					b;

		CHECK_FOR_INTERRUPTS();
		memset(g, 0, sizeof(double) * k);
		memset(H, 0, sizeof(double) * k * k);
		x[0] = 1.0;
		for (i = 0; i < n; i++)
		{
			int64		r = rows[i];
			double		z = 0,
						mu,
						w,
						e;

			logreg_row(m, d, r, x + 1);
			for (a = 0; a < k; a++)
				z += beta[a] * x[a];
			mu = churn_sigmoid(z);
			w = mu * (1 - mu);
			e = mu - d->label[r];
			loss += log1pexp(z) - (d->label[r] ? z : 0);
			for (a = 0; a < k; a++)
			{
				double		wa = w * x[a];
				double	   *Ha = H + a * k;

				g[a] += e * x[a];
				for (b = 0; b <= a; b++)
					Ha[b] += wa * x[b];
			}
		}
		for (a = 1; a < k; a++)
		{
			loss += beta[a] * beta[a] / (2 * C);
			g[a] += beta[a] / C;
			H[a * k + a] += 1.0 / C;
		}

		/* Backtrack when the full Newton step made things worse. */
		if (loss > prev_loss + 1e-10 * fabs(prev_loss) && it > 0)
		{
			for (a = 0; a < k; a++)
			{
				step[a] *= 0.5;
				beta[a] = prev[a] - step[a];
			}
			continue;
		}
		prev_loss = loss;

		/* Tiny ridge for exactly collinear columns (e.g. one-hot of 2 levels). */
		H[0] += 1e-10;
		for (a = 1; a < k; a++)
			H[a * k + a] += 1e-10;
		memcpy(step, g, sizeof(double) * k);
		if (!cholesky_solve(H, step, k))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("logistic regression did not converge: the Hessian is singular"),
					 errhint("Try a smaller \"lr_c\" (stronger regularisation).")));
		memcpy(prev, beta, sizeof(double) * k);
		for (a = 0; a < k; a++)
		{
			beta[a] -= step[a];
			maxstep = Max(maxstep, fabs(step[a]));
		}
		churn_progress(progress, "training logistic regression", n, it + 1);
		if (maxstep < 1e-9)
			break;
	}

	m->intercept = beta[0];
	j = 1;
	for (f = 0; f < m->nfeatures; f++)
	{
		ChurnFeature *ft = &m->features[f];

		if (ft->kind == CHURN_NUMERIC)
		{
			ft->coef = beta[j++];
			if (ft->has_indicator)
				ft->ind_coef = beta[j++];
		}
		else
		{
			int			l;

			for (l = 0; l < ft->nlevels; l++)
				ft->level_coef[l] = beta[j++];
		}
	}
	pfree(H);
	pfree(beta);
	pfree(prev);
	pfree(step);
	pfree(g);
	pfree(x);
	return m;
}

/*
 * churn_logreg_logit
 *		Logit of one row; with contrib, also each feature's contribution
 *		(coefficient x standardised value, summed over a feature's columns),
 *		so that intercept + sum(contrib) = logit exactly.
 */
double
churn_logreg_logit(const ChurnModel *m, const ChurnData *d, int64 row, double *contrib)
{
	double		z = m->intercept;
	int			f;

	for (f = 0; f < m->nfeatures; f++)
	{
		const ChurnFeature *ft = &m->features[f];
		const ChurnColumn *c = &d->cols[f];
		double		t = 0;

		if (ft->kind == CHURN_NUMERIC)
		{
			double		v = c->num[row];
			bool		miss = isnan(v);

			t = ft->coef * ((miss ? ft->median : v) - ft->mean) / ft->std;
			if (ft->has_indicator)
				t += ft->ind_coef * ((miss ? 1.0 : 0.0) - ft->ind_mean) / ft->ind_std;
		}
		else
		{
			int32		code = c->cat[row];
			int			l;

			for (l = 0; l < ft->nlevels; l++)
				t += ft->level_coef[l] * ((code == l ? 1.0 : 0.0) - ft->level_mean[l]) / ft->level_std[l];
		}
		if (contrib)
			contrib[f] = t;
		z += t;
	}
	return z;
}

/*
 * churn_logreg_compile
 *		The model folded for scoring many rows without contributions: the
 *		logit is base + sum of scale[f] * x (or missing[f] when x is
 *		missing) over numeric features, plus table[f][code + 1] over
 *		categorical ones.  Standardisation, imputation and one-hot encoding
 *		are all folded into these constants, so a row costs one multiply-add
 *		or one lookup per feature.  Equal to churn_logreg_logit up to
 *		rounding.
 */
ChurnLinear *
churn_logreg_compile(const ChurnModel *m)
{
	ChurnLinear *lin = palloc0(sizeof(ChurnLinear));
	int			f;

	Assert(m->algorithm == CHURN_LOGREG);
	lin->nfeatures = m->nfeatures;
	lin->base = m->intercept;
	lin->scale = palloc0(sizeof(double) * Max(m->nfeatures, 1));
	lin->missing = palloc0(sizeof(double) * Max(m->nfeatures, 1));
	lin->table = palloc0(sizeof(double *) * Max(m->nfeatures, 1));
	for (f = 0; f < m->nfeatures; f++)
	{
		const ChurnFeature *ft = &m->features[f];

		if (ft->kind == CHURN_NUMERIC)
		{
			/* present: coef * (x - mean) / std + ind_coef * (0 - ind_mean) / ind_std */
			double		present0 = -ft->coef * ft->mean / ft->std;
			double		missing = ft->coef * (ft->median - ft->mean) / ft->std;

			if (ft->has_indicator)
			{
				present0 += ft->ind_coef * (0.0 - ft->ind_mean) / ft->ind_std;
				missing += ft->ind_coef * (1.0 - ft->ind_mean) / ft->ind_std;
			}
			lin->scale[f] = ft->coef / ft->std;
			lin->base += present0;
			lin->missing[f] = missing - present0;
		}
		else
		{
			int			code,
						l;

			lin->table[f] = palloc0(sizeof(double) * (ft->nlevels + 1));
			for (code = -1; code < ft->nlevels; code++)
			{
				double		t = 0;

				for (l = 0; l < ft->nlevels; l++)
					t += ft->level_coef[l] * ((code == l ? 1.0 : 0.0) - ft->level_mean[l]) / ft->level_std[l];
				lin->table[f][code + 1] = t;
			}
		}
	}
	return lin;
}
