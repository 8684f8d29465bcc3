/*-------------------------------------------------------------------------
 *
 * churn_gbt.c
 *		Histogram gradient-boosted trees for a binary label (log loss), in
 *		the manner of LightGBM and scikit-learn's HistGradientBoosting.
 *
 *	- Binning: a numeric feature gets at most max_bins (<= 255) bins whose
 *	  edges are the training quantiles (or the midpoints between distinct
 *	  values when there are few); a text feature's bins are its levels.
 *	  Missing values go to bin 255.  Binned data is one byte per value.
 *	- Trees grow best-first (leaf-wise) up to max_leaves and max_depth; a
 *	  node's histograms of gradient and hessian sums are built for the
 *	  smaller child and obtained by subtraction for the larger one.
 *	- Split gain is the second-order one of XGBoost:
 *		1/2 [GL^2/(HL+l2) + GR^2/(HR+l2) - G^2/(H+l2)],
 *	  with at least min_leaf rows on each side.  Missing values are tried on
 *	  both sides and the better becomes the node's default direction.
 *	  Text features split natively: levels sorted by G/(H + smoothing), best
 *	  prefix goes left (LightGBM's many-vs-many categorical split).
 *	- Leaf value -G/(H+l2) x learning rate; early stopping when the
 *	  validation log loss has not improved for early_stopping rounds, keeping
 *	  the best number of trees.
 *	- Every node keeps its value, so a prediction can be split into
 *	  per-feature contributions along its path (Saabas): they add up to the
 *	  logit minus the bias exactly.
 *	- Scoring lays a model's trees out once (see ChurnGbtScorer) and compares
 *	  a row's raw values with thresholds, without binning the row.
 *
 * No randomness: the same data and parameters give the same trees.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/float.h"

#include "churn/churn.h"

#define NBIN		256
#define CAT_SMOOTH	10.0
#define MIN_HESS	1e-3
#define BIN_SAMPLE	200000

/*
 * Rows of a partitioned node come in random order: their bins are fetched
 * this many rows ahead of use, so the cache misses overlap.
 */
#define PREFETCH_AHEAD	16
#if defined(__GNUC__)
#define gbt_prefetch(p) __builtin_prefetch(p)
#else
#define gbt_prefetch(p) ((void) 0)
#endif

typedef struct HistEntry
{
	double		g;
	double		h;
	int64		n;
} HistEntry;

typedef struct SplitInfo
{
	double		gain;
	int			feature;
	int			bin;
	bool		missing_left;
	uint64		catset[4];
} SplitInfo;

typedef struct GbtLeaf
{
	int			node;
	int64		start;
	int64		end;
	int			depth;
	double		G;
	double		H;
	HistEntry  *hist;
	SplitInfo	split;
} GbtLeaf;

typedef struct GbtState
{
	ChurnData  *d;
	ChurnModel *m;
	const ChurnParams *p;
	int			nf;
	int		   *nbins;			/* real bins per feature */
	bool	   *is_cat;

	/*
	 * Rows are numbered locally, 0..ntrain-1 in the order of the train
	 * array, and binned row-major (one row's bins in nf consecutive bytes),
	 * so a histogram costs one cache line per row instead of one per row and
	 * feature when the rows of a node come in partitioned (random) order.
	 */
	int64		ntrain;
	uint8	   *tbins;			/* training rows' bins, row-major */
	uint8	   *tlabel;			/* training rows' labels */
	double	   *tscore;			/* training rows' logits so far */
	int64		nvalid;
	uint8	   *vbins;			/* validation rows' bins, row-major */
	int64	   *idx;			/* local training rows, partitioned by the tree */

	/*
	 * Gradient and hessian of the row at idx[i], at position i: they move
	 * with idx when a node is partitioned, so histograms and leaf sums read
	 * them sequentially.
	 */
	double	   *g;
	double	   *h;
} GbtState;

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
 * numeric_bin
 *		Bin of a value: the number of edges below it.
 */
static inline int
numeric_bin(const ChurnFeature *ft, double x)
{
	int			lo = 0,
				hi = ft->nedges;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (ft->edges[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * cat_bin, num_bin
 *		Tree bin of a level code or a number (missing: CHURN_MISSING_BIN).
 */
static inline uint8
cat_bin(int32 code)
{
	return code < 0 ? CHURN_MISSING_BIN : (uint8) code;
}

static inline uint8
num_bin(const ChurnFeature *ft, double x)
{
	return isnan(x) ? CHURN_MISSING_BIN : (uint8) numeric_bin(ft, x);
}

/*
 * make_bins
 *		Learn bin edges from the training rows and bin the training and
 *		validation rows into s->tbins and s->vbins.
 */
static void
make_bins(GbtState *s, const int64 *train, int64 ntrain, const int64 *valid, int64 nvalid)
{
	ChurnData  *d = s->d;
	int			f;
	int			max_bins = Min(Max(s->p->gbt_max_bins, 2), CHURN_MAX_BINS);
	double	   *buf = palloc_extended(sizeof(double) * Max(Min(ntrain, BIN_SAMPLE), 1), MCXT_ALLOC_HUGE);

	for (f = 0; f < s->nf; f++)
	{
		ChurnColumn *c = &d->cols[f];
		ChurnFeature *ft = &s->m->features[f];
		int64		i;

		ft->name = pstrdup(c->name);
		ft->kind = c->kind;
		if (c->kind == CHURN_CATEGORICAL)
		{
			if (c->nlevels > CHURN_MAX_BINS - 1)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("column \"%s\" has %d levels; gradient-boosted trees take at most %d",
								c->name, c->nlevels, CHURN_MAX_BINS - 1),
						 errhint("Leave it out with the option \"exclude\", or use {\"algorithm\": \"logreg\"}.")));
			ft->nlevels = c->nlevels;
			ft->levels = palloc(sizeof(char *) * Max(c->nlevels, 1));
			for (i = 0; i < c->nlevels; i++)
				ft->levels[i] = pstrdup(c->levels[i]);
			for (i = 0; i < ntrain; i++)
				s->tbins[i * s->nf + f] = cat_bin(c->cat[train[i]]);
			for (i = 0; i < nvalid; i++)
				s->vbins[i * s->nf + f] = cat_bin(c->cat[valid[i]]);
			s->nbins[f] = Max(c->nlevels, 1);
			s->is_cat[f] = true;
		}
		else
		{
			int64		k = 0,
						nval = 0,
						stride,
						ndistinct = 0;

			for (i = 0; i < ntrain; i++)
				if (!isnan(c->num[train[i]]))
					nval++;
			stride = nval > BIN_SAMPLE ? (nval + BIN_SAMPLE - 1) / BIN_SAMPLE : 1;
			nval = 0;
			for (i = 0; i < ntrain; i++)
				if (!isnan(c->num[train[i]]))
				{
					if (nval % stride == 0 && k < BIN_SAMPLE)
						buf[k++] = c->num[train[i]];
					nval++;
				}
			qsort(buf, k, sizeof(double), compare_double);
			for (i = 0; i < k; i++)
				if (i == 0 || buf[i] != buf[i - 1])
					ndistinct++;
			ft->edges = palloc(sizeof(double) * max_bins);
			ft->nedges = 0;
			if (ndistinct <= max_bins)
			{
				for (i = 1; i < k; i++)
					if (buf[i] != buf[i - 1])
						ft->edges[ft->nedges++] = (buf[i - 1] + buf[i]) / 2;
			}
			else
			{
				int			q;

				for (q = 1; q < max_bins; q++)
				{
					double		e = buf[(int64) ((double) q * k / max_bins)];

					if (ft->nedges == 0 || e > ft->edges[ft->nedges - 1])
						ft->edges[ft->nedges++] = e;
				}
			}
			for (i = 0; i < ntrain; i++)
				s->tbins[i * s->nf + f] = num_bin(ft, c->num[train[i]]);
			for (i = 0; i < nvalid; i++)
				s->vbins[i * s->nf + f] = num_bin(ft, c->num[valid[i]]);
			s->nbins[f] = ft->nedges + 1;
			s->is_cat[f] = false;
		}
	}
	pfree(buf);
}

/*
 * build_hist
 *		Sum gradients, hessians and counts per feature and bin over
 *		idx[start, end).
 *
 * Rows are visited in idx order, each bin summing its rows in that order,
 * so the sums (and the trees) do not depend on the memory layout.
 */
static void
build_hist(GbtState *s, HistEntry *hist, int64 start, int64 end)
{
	int			nf = s->nf;
	const uint8 *tbins = s->tbins;
	const int64 *idx = s->idx;
	const double *g = s->g;
	const double *h = s->h;
	int64		i;

	memset(hist, 0, sizeof(HistEntry) * NBIN * nf);
	for (i = start; i < end; i++)
	{
		const uint8 *rb = tbins + idx[i] * nf;
		double		gi = g[i];
		double		hi = h[i];
		HistEntry  *hf = hist;
		int			f;

		if (i + PREFETCH_AHEAD < end)
			gbt_prefetch(tbins + idx[i + PREFETCH_AHEAD] * nf);

		for (f = 0; f < nf; f++, hf += NBIN)
		{
			HistEntry  *e = &hf[rb[f]];

			e->g += gi;
			e->h += hi;
			e->n++;
		}
	}
}

/*
 * split_gain
 *		Second-order gain of a split into (GL, HL) and the rest.
 */
static inline double
split_gain(double GL, double HL, double G, double H, double l2)
{
	double		GR = G - GL,
				HR = H - HL;

	return 0.5 * (GL * GL / (HL + l2) + GR * GR / (HR + l2) - G * G / (H + l2));
}

typedef struct CatOrder
{
	int			bin;
	double		key;
} CatOrder;

/*
 * compare_cat
 *		qsort comparator: levels by G/(H + smoothing), then by bin.
 */
static int
compare_cat(const void *a, const void *b)
{
	const CatOrder *x = a;
	const CatOrder *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->bin - y->bin;
}

/*
 * can_split
 *		Whether a leaf of n rows at a depth may be split at all.
 */
static inline bool
can_split(const ChurnParams *p, int64 n, int depth)
{
	return n >= 2 * p->gbt_min_leaf && !(p->gbt_max_depth > 0 && depth >= p->gbt_max_depth);
}

/*
 * find_split
 *		The best split of a leaf over every feature, into leaf->split
 *		(gain 0 when there is none).
 */
static void
find_split(GbtState *s, GbtLeaf *leaf)
{
	const ChurnParams *p = s->p;
	double		l2 = p->gbt_l2;
	int64		n = leaf->end - leaf->start;
	int			f;

	memset(&leaf->split, 0, sizeof(SplitInfo));
	leaf->split.feature = -1;
	if (!can_split(p, n, leaf->depth))
		return;

	for (f = 0; f < s->nf; f++)
	{
		HistEntry  *hf = leaf->hist + f * NBIN;
		HistEntry  *miss = &hf[CHURN_MISSING_BIN];
		int			nb = s->nbins[f];

		if (!s->is_cat[f])
		{
			double		GL = 0,
						HL = 0;
			int64		nL = 0;
			int			b;

			for (b = 0; b < nb - 1; b++)
			{
				int			side;

				GL += hf[b].g;
				HL += hf[b].h;
				nL += hf[b].n;
				for (side = 0; side < 2; side++)
				{
					/* side 0: missing right; side 1: missing left */
					double		gl = GL + (side ? miss->g : 0);
					double		hl = HL + (side ? miss->h : 0);
					int64		nl = nL + (side ? miss->n : 0);
					double		gain;

					if (side == 1 && miss->n == 0)
						break;
					if (nl < p->gbt_min_leaf || n - nl < p->gbt_min_leaf ||
						hl < MIN_HESS || leaf->H - hl < MIN_HESS)
						continue;
					gain = split_gain(gl, hl, leaf->G, leaf->H, l2);
					if (gain > leaf->split.gain + 1e-12)
					{
						leaf->split.gain = gain;
						leaf->split.feature = f;
						leaf->split.bin = b;
						/* with no missing values here, send them to the larger side */
						leaf->split.missing_left = miss->n > 0 ? side == 1 : nl >= n - nl;
					}
				}
			}
		}
		else
		{
			CatOrder	order[NBIN];
			int			k = 0,
						i;
			double		GL = 0,
						HL = 0;
			int64		nL = 0;

			for (i = 0; i < nb; i++)
				if (hf[i].n > 0)
				{
					order[k].bin = i;
					order[k].key = hf[i].g / (hf[i].h + CAT_SMOOTH);
					k++;
				}
			if (k < 2 && miss->n == 0)
				continue;
			qsort(order, k, sizeof(CatOrder), compare_cat);
			for (i = 0; i < k; i++)
			{
				int			side;

				GL += hf[order[i].bin].g;
				HL += hf[order[i].bin].h;
				nL += hf[order[i].bin].n;
				for (side = 0; side < 2; side++)
				{
					double		gl = GL + (side ? miss->g : 0);
					double		hl = HL + (side ? miss->h : 0);
					int64		nl = nL + (side ? miss->n : 0);
					double		gain;

					if (side == 1 && miss->n == 0)
						break;
					if (nl < p->gbt_min_leaf || n - nl < p->gbt_min_leaf ||
						hl < MIN_HESS || leaf->H - hl < MIN_HESS)
						continue;
					gain = split_gain(gl, hl, leaf->G, leaf->H, l2);
					if (gain > leaf->split.gain + 1e-12)
					{
						int			j;

						leaf->split.gain = gain;
						leaf->split.feature = f;
						leaf->split.bin = -1;
						leaf->split.missing_left = miss->n > 0 ? side == 1 : nl >= n - nl;
						memset(leaf->split.catset, 0, sizeof(leaf->split.catset));
						for (j = 0; j <= i; j++)
							leaf->split.catset[order[j].bin / 64] |= UINT64CONST(1) << (order[j].bin % 64);
					}
				}
			}
		}
	}
}

/*
 * goes_left
 *		Whether a bin goes to the left child of a split.
 */
static inline bool
goes_left(bool is_cat, int thr, bool missing_left, const uint64 *catset, int b)
{
	if (b == CHURN_MISSING_BIN)
		return missing_left;
	if (is_cat)
		return (catset[b / 64] >> (b % 64)) & 1;
	return b <= thr;
}

/*
 * leaf_binned
 *		Leaf reached by a row from its row-major bins.
 */
static int
leaf_binned(GbtState *s, const ChurnTree *t, const uint8 *rb)
{
	int			node = 0;

	while (t->feature[node] >= 0)
	{
		int			f = t->feature[node];

		node = goes_left(s->is_cat[f], t->bin[node], t->missing_left[node],
						 &t->catset[node * 4], rb[f])
			? t->left[node] : t->right[node];
	}
	return node;
}

/*
 * grow_tree
 *		Grow one tree on the current gradients; adds the leaf values to the
 *		training rows' scores.  s->idx must hold 0..ntrain-1 in order and
 *		s->g, s->h the rows' gradients in that order.
 */
static void
grow_tree(GbtState *s, ChurnTree *t)
{
	const ChurnParams *p = s->p;
	int			max_leaves = Max(p->gbt_max_leaves, 2);
	int			max_nodes = 2 * max_leaves - 1;
	GbtLeaf    *leaves = palloc0(sizeof(GbtLeaf) * max_leaves);
	int			nleaves = 1;
	double		lr = p->gbt_learning_rate;
	int64		ntrain = s->ntrain;
	int64	   *idx = s->idx;
	double	   *g = s->g;
	double	   *h = s->h;
	int64		i;
	int			l;

	t->feature = palloc(sizeof(int32) * max_nodes);
	t->bin = palloc0(sizeof(int32) * max_nodes);
	t->missing_left = palloc0(sizeof(uint8) * max_nodes);
	t->left = palloc0(sizeof(int32) * max_nodes);
	t->right = palloc0(sizeof(int32) * max_nodes);
	t->value = palloc0(sizeof(double) * max_nodes);
	t->catset = palloc0(sizeof(uint64) * 4 * max_nodes);
	t->nnodes = 1;
	t->feature[0] = -1;

	leaves[0].node = 0;
	leaves[0].start = 0;
	leaves[0].end = ntrain;
	leaves[0].hist = palloc_extended(sizeof(HistEntry) * NBIN * s->nf, MCXT_ALLOC_HUGE);
	build_hist(s, leaves[0].hist, 0, ntrain);
	for (i = 0; i < ntrain; i++)
	{
		leaves[0].G += g[i];
		leaves[0].H += h[i];
	}
	t->value[0] = -leaves[0].G / (leaves[0].H + p->gbt_l2) * lr;
	find_split(s, &leaves[0]);

	while (nleaves < max_leaves)
	{
		int			best = -1;
		GbtLeaf    *pl,
				   *ll,
				   *rl;
		SplitInfo	sp;
		int			f;
		int64		a,
					b;
		int			node;
		HistEntry  *small_hist;

		for (l = 0; l < nleaves; l++)
			if (leaves[l].split.gain > 0 && (best < 0 || leaves[l].split.gain > leaves[best].split.gain))
				best = l;
		if (best < 0)
			break;

		pl = &leaves[best];
		sp = pl->split;
		f = sp.feature;
		node = pl->node;

		/*
		 * Partition the rows of the leaf in place, left ones first, moving
		 * their gradients along.
		 */
		a = pl->start;
		b = pl->end - 1;
		while (a <= b)
		{
			if (a + PREFETCH_AHEAD <= b)
			{
				gbt_prefetch(s->tbins + idx[a + PREFETCH_AHEAD] * s->nf + f);
				gbt_prefetch(s->tbins + idx[b - PREFETCH_AHEAD] * s->nf + f);
			}
			if (goes_left(s->is_cat[f], sp.bin, sp.missing_left, sp.catset,
						  s->tbins[idx[a] * s->nf + f]))
				a++;
			else
			{
				int64		ti = idx[a];
				double		tg = g[a],
							th = h[a];

				idx[a] = idx[b];
				g[a] = g[b];
				h[a] = h[b];
				idx[b] = ti;
				g[b] = tg;
				h[b] = th;
				b--;
			}
		}

		/* Record the split in the tree. */
		t->feature[node] = f;
		t->bin[node] = sp.bin;
		t->missing_left[node] = sp.missing_left;
		memcpy(&t->catset[node * 4], sp.catset, sizeof(sp.catset));
		t->left[node] = t->nnodes;
		t->right[node] = t->nnodes + 1;
		t->feature[t->nnodes] = -1;
		t->feature[t->nnodes + 1] = -1;
		s->m->features[f].importance += sp.gain;

		/* The parent's slot becomes the left child, a new slot the right one. */
		ll = pl;
		rl = &leaves[nleaves++];
		rl->start = a;
		rl->end = ll->end;
		rl->depth = ll->depth + 1;
		rl->node = t->nnodes + 1;
		ll->end = a;
		ll->depth = rl->depth;
		ll->node = t->nnodes;
		t->nnodes += 2;

		/*
		 * Histograms: build the smaller child, subtract for the larger.  When
		 * neither child can be split again (no leaf left to grow, depth
		 * limit, too few rows) they need none: find_split would not look.
		 */
		if (nleaves >= max_leaves ||
			(!can_split(p, ll->end - ll->start, ll->depth) &&
			 !can_split(p, rl->end - rl->start, rl->depth)))
		{
			pfree(ll->hist);
			ll->hist = rl->hist = NULL;
		}
		else
		{
			HistEntry  *parent = ll->hist;
			HistEntry  *big;
			int64		k;
			bool		left_small = (ll->end - ll->start) <= (rl->end - rl->start);

			rl->hist = palloc_extended(sizeof(HistEntry) * NBIN * s->nf, MCXT_ALLOC_HUGE);
			small_hist = rl->hist;
			if (left_small)
				build_hist(s, small_hist, ll->start, ll->end);
			else
				build_hist(s, small_hist, rl->start, rl->end);
			big = parent;		/* in place: parent - small */
			for (k = 0; k < (int64) NBIN * s->nf; k++)
			{
				big[k].g -= small_hist[k].g;
				big[k].h -= small_hist[k].h;
				big[k].n -= small_hist[k].n;
			}
			if (left_small)
			{
				/* small belongs to the left child, big to the right */
				ll->hist = small_hist;
				rl->hist = big;
			}
		}
		ll->G = ll->H = rl->G = rl->H = 0;
		for (i = ll->start; i < ll->end; i++)
		{
			ll->G += g[i];
			ll->H += h[i];
		}
		for (i = rl->start; i < rl->end; i++)
		{
			rl->G += g[i];
			rl->H += h[i];
		}
		t->value[ll->node] = -ll->G / (ll->H + p->gbt_l2) * lr;
		t->value[rl->node] = -rl->G / (rl->H + p->gbt_l2) * lr;
		if (ll->hist)
		{
			find_split(s, ll);
			find_split(s, rl);
		}
		else
		{
			memset(&ll->split, 0, sizeof(SplitInfo));
			memset(&rl->split, 0, sizeof(SplitInfo));
			ll->split.feature = rl->split.feature = -1;
		}
	}

	for (l = 0; l < nleaves; l++)
	{
		double		v = t->value[leaves[l].node];

		for (i = leaves[l].start; i < leaves[l].end; i++)
			s->tscore[idx[i]] += v;
		if (leaves[l].hist)
			pfree(leaves[l].hist);
	}
	pfree(leaves);
}

/*
 * churn_gbt_fit
 *		Boost up to max_iter trees on the train rows; with validation rows,
 *		stop early when their log loss has not improved for
 *		p->gbt_early_stopping rounds and keep the best number of trees,
 *		returned in *best_iter.
 */
ChurnModel *
churn_gbt_fit(ChurnData *d, const int64 *train, int64 ntrain, const int64 *valid, int64 nvalid,
			  const ChurnParams *p, int max_iter, int *best_iter, ChurnProgress *progress)
{
	GbtState	s;
	ChurnModel *m = palloc0(sizeof(ChurnModel));
	double	   *vscore;
	double		pos = 0,
				base,
				best_loss = INFINITY;
	int			best = 0;
	int			it;
	int64		i;

	memset(&s, 0, sizeof(s));
	s.d = d;
	s.m = m;
	s.p = p;
	s.nf = d->ncols;
	s.ntrain = ntrain;
	s.nvalid = nvalid;
	m->algorithm = CHURN_GBT;
	m->nfeatures = d->ncols;
	m->features = palloc0(sizeof(ChurnFeature) * d->ncols);
	m->trees = palloc0(sizeof(ChurnTree) * Max(max_iter, 1));
	s.nbins = palloc0(sizeof(int) * s.nf);
	s.is_cat = palloc0(sizeof(bool) * s.nf);
	s.tbins = palloc_extended(Max(ntrain * s.nf, 1), MCXT_ALLOC_HUGE);
	s.vbins = palloc_extended(Max(nvalid * s.nf, 1), MCXT_ALLOC_HUGE);
	s.tlabel = palloc_extended(Max(ntrain, 1), MCXT_ALLOC_HUGE);
	s.tscore = palloc_extended(sizeof(double) * Max(ntrain, 1), MCXT_ALLOC_HUGE);
	vscore = palloc_extended(sizeof(double) * Max(nvalid, 1), MCXT_ALLOC_HUGE);
	s.g = palloc_extended(sizeof(double) * Max(ntrain, 1), MCXT_ALLOC_HUGE);
	s.h = palloc_extended(sizeof(double) * Max(ntrain, 1), MCXT_ALLOC_HUGE);
	s.idx = palloc_extended(sizeof(int64) * Max(ntrain, 1), MCXT_ALLOC_HUGE);

	churn_progress(progress, "binning features", ntrain, 0);
	make_bins(&s, train, ntrain, valid, nvalid);

	for (i = 0; i < ntrain; i++)
	{
		s.tlabel[i] = d->label[train[i]];
		pos += s.tlabel[i];
	}
	base = log(pos / (ntrain - pos));
	m->intercept = base;
	for (i = 0; i < ntrain; i++)
		s.tscore[i] = base;
	for (i = 0; i < nvalid; i++)
		vscore[i] = base;

	for (it = 0; it < max_iter; it++)
	{
		ChurnTree  *t = &m->trees[it];

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < ntrain; i++)
		{
			double		q = churn_sigmoid(s.tscore[i]);

			s.g[i] = q - s.tlabel[i];
			s.h[i] = Max(q * (1 - q), 1e-16);
			s.idx[i] = i;
		}
		grow_tree(&s, t);
		m->ntrees = it + 1;

		if (nvalid > 0)
		{
			double		loss = 0;

			for (i = 0; i < nvalid; i++)
			{
				double		z;

				vscore[i] += t->value[leaf_binned(&s, t, s.vbins + i * s.nf)];
				z = vscore[i];
				loss += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - (d->label[valid[i]] ? z : 0);
			}
			loss /= nvalid;
			if (loss < best_loss - 1e-7)
			{
				best_loss = loss;
				best = it + 1;
			}
			else if (it + 1 - best >= p->gbt_early_stopping)
				break;
		}
		else
			best = it + 1;
		if ((it + 1) % 10 == 0)
			churn_progress(progress, "training gradient-boosted trees", ntrain, it + 1);
	}
	m->ntrees = Max(best, 1);
	*best_iter = m->ntrees;

	/* The working arrays can be large; the model outlives them. */
	pfree(s.nbins);
	pfree(s.is_cat);
	pfree(s.tbins);
	pfree(s.vbins);
	pfree(s.tlabel);
	pfree(s.tscore);
	pfree(vscore);
	pfree(s.g);
	pfree(s.h);
	pfree(s.idx);
	return m;
}

/*
 * gbt_logit_binned
 *		churn_gbt_logit for a model that the scorer cannot lay out: bins the
 *		row once, then walks the trees comparing bins.
 */
static double
gbt_logit_binned(const ChurnModel *m, const ChurnData *d, int64 row, double *contrib)
{
	double		z = m->intercept;
	int			t,
				f;
	int			bins_local[64];
	int		   *bins = m->nfeatures <= 64 ? bins_local : palloc(sizeof(int) * m->nfeatures);

	/* Bin the row once; the trees then compare bins. */
	for (f = 0; f < m->nfeatures; f++)
	{
		const ChurnFeature *ft = &m->features[f];
		const ChurnColumn *c = &d->cols[f];

		if (ft->kind == CHURN_NUMERIC)
			bins[f] = isnan(c->num[row]) ? CHURN_MISSING_BIN : numeric_bin(ft, c->num[row]);
		else
			bins[f] = c->cat[row] < 0 ? CHURN_MISSING_BIN : c->cat[row];
	}
	if (contrib)
		memset(contrib, 0, sizeof(double) * m->nfeatures);
	for (t = 0; t < m->ntrees; t++)
	{
		const ChurnTree *tr = &m->trees[t];
		int			node = 0;

		while (tr->feature[node] >= 0)
		{
			int			next;

			f = tr->feature[node];
			next = goes_left(m->features[f].kind == CHURN_CATEGORICAL, tr->bin[node], tr->missing_left[node],
							 &tr->catset[node * 4], bins[f]) ? tr->left[node] : tr->right[node];
			if (contrib)
				contrib[f] += tr->value[next] - tr->value[node];
			node = next;
		}
		z += tr->value[node];
	}
	if (bins != bins_local)
		pfree(bins);
	return z;
}

/*
 * Scoring layout of the trees.
 *
 * Every node of every tree in one array of 16-byte nodes, the two children
 * of a node next to each other, so a walk touches one small node per level
 * instead of seven parallel arrays.  A numeric split compares the raw value
 * with a threshold instead of the value's bin: numeric_bin(x) counts the
 * edges below x, so for sorted edges "bin <= b" is exactly "x <= edges[b]",
 * and the row needs no binning.  Missing values (NaN, or a negative level
 * code) follow missing_left; a text split tests its level in a 256-bit set.
 * Node values are kept apart.
 *
 * A leaf is a split that always goes "left" to itself: it reads a slot of
 * the row that is always 0 against a threshold of +inf.  So a walk may go
 * on past a leaf, and SCORER_LANES trees are walked in lockstep for as many
 * steps as the deepest of them needs: their dependent loads overlap instead
 * of waiting for one another (a tree walk is a chain of loads, each address
 * depending on the previous compare).  With contributions the lanes' paths
 * are recorded and summed afterwards.
 */
#define SNODE_MISSING_LEFT	0x01
#define SNODE_CATEGORICAL	0x02
#define SNODE_LEAF			0x04
#define SCORER_LANES		8
#define SCORER_MAX_PATH		32	/* deeper lanes with contributions: one tree at a time */

typedef struct ScorerNode
{
	union
	{
		double		thr;		/* numeric: x <= thr goes left; leaf: +inf */
		uint32		catset;		/* text: index of its level set */
	}			u;
	int32		left;			/* left child, the right one follows it; leaf:
								 * itself */
	int16		feature;		/* leaf: nfeatures, the row's slot holding 0 */
	uint8		flags;
} ScorerNode;

typedef struct ChurnGbtScorer
{
	bool		usable;			/* false: score with gbt_logit_binned */
	int			ntrees;			/* m->ntrees it was built for */
	int32	   *root;			/* per tree */
	int32	   *depth;			/* per tree: steps from the root to any leaf */
	ScorerNode *nodes;
	double	   *value;			/* per node */
	uint64	   *catsets;		/* 4 words per text split */
} ChurnGbtScorer;

/*
 * scorer_build
 *		Lay out a model's trees for scoring, in the model's memory context.
 *		Models the layout cannot score exactly as gbt_logit_binned does
 *		(only possible for stored models not made by churn_gbt_fit) get an
 *		unusable scorer.
 */
static ChurnGbtScorer *
scorer_build(const ChurnModel *m)
{
	MemoryContext old = MemoryContextSwitchTo(GetMemoryChunkContext((void *) m));
	ChurnGbtScorer *sc = palloc0(sizeof(ChurnGbtScorer));
	int64		total = 0,
				ncat = 0;
	int			f,
				t;

	sc->ntrees = m->ntrees;
	MemoryContextSwitchTo(old);

	/*
	 * The threshold form needs edges sorted and not NaN, and fewer than
	 * CHURN_MISSING_BIN of them (a bin of 255 would read as missing).
	 */
	if (m->nfeatures >= PG_INT16_MAX)
		return sc;
	for (f = 0; f < m->nfeatures; f++)
	{
		const ChurnFeature *ft = &m->features[f];
		int			e;

		if (ft->kind != CHURN_NUMERIC)
			continue;
		if (ft->nedges >= CHURN_MISSING_BIN)
			return sc;
		for (e = 0; e < ft->nedges; e++)
			if (isnan(ft->edges[e]) || (e > 0 && ft->edges[e] < ft->edges[e - 1]))
				return sc;
	}
	for (t = 0; t < m->ntrees; t++)
	{
		const ChurnTree *tr = &m->trees[t];
		int			n;

		for (n = 0; n < tr->nnodes; n++)
			if (tr->feature[n] >= 0)
			{
				/* children must be adjacent (churn_gbt_fit makes them so) */
				if (tr->right[n] != tr->left[n] + 1)
					return sc;
				if (m->features[tr->feature[n]].kind == CHURN_CATEGORICAL)
					ncat++;
			}
		total += tr->nnodes;
	}
	if (total > PG_INT32_MAX / 2 || ncat > PG_INT32_MAX / 8)
		return sc;

	old = MemoryContextSwitchTo(GetMemoryChunkContext((void *) m));
	sc->root = palloc(sizeof(int32) * Max(m->ntrees, 1));
	sc->depth = palloc0(sizeof(int32) * Max(m->ntrees, 1));
	sc->nodes = palloc_extended(sizeof(ScorerNode) * Max(total, 1), MCXT_ALLOC_HUGE);
	sc->value = palloc_extended(sizeof(double) * Max(total, 1), MCXT_ALLOC_HUGE);
	sc->catsets = palloc_extended(sizeof(uint64) * 4 * Max(ncat, 1), MCXT_ALLOC_HUGE);
	MemoryContextSwitchTo(old);

	total = ncat = 0;
	for (t = 0; t < m->ntrees; t++)
	{
		const ChurnTree *tr = &m->trees[t];
		int			n;

		/* node depths, parents first: children have higher numbers */
		int32	   *nd = palloc0(sizeof(int32) * Max(tr->nnodes, 1));

		sc->root[t] = (int32) total;
		for (n = 0; n < tr->nnodes; n++)
		{
			ScorerNode *sn = &sc->nodes[total + n];

			memset(sn, 0, sizeof(ScorerNode));
			sc->value[total + n] = tr->value[n];
			if (tr->feature[n] < 0)
			{
				sn->feature = (int16) m->nfeatures;
				sn->flags = SNODE_LEAF;
				sn->u.thr = get_float8_infinity();
				sn->left = (int32) (total + n);
				continue;
			}
			sn->feature = (int16) tr->feature[n];
			nd[tr->left[n]] = Max(nd[tr->left[n]], nd[n] + 1);
			nd[tr->right[n]] = Max(nd[tr->right[n]], nd[n] + 1);
			sc->depth[t] = Max(sc->depth[t], nd[n] + 1);
			sn->left = (int32) total + tr->left[n];
			sn->flags = tr->missing_left[n] ? SNODE_MISSING_LEFT : 0;
			if (m->features[tr->feature[n]].kind == CHURN_CATEGORICAL)
			{
				sn->flags |= SNODE_CATEGORICAL;
				sn->u.catset = (uint32) ncat;
				memcpy(&sc->catsets[ncat * 4], &tr->catset[n * 4], sizeof(uint64) * 4);
				ncat++;
			}
			else
			{
				const ChurnFeature *ft = &m->features[tr->feature[n]];
				int			b = tr->bin[n];

				/*
				 * bin <= b: never for b < 0 (nothing compares true with
				 * NaN), always for b at or past the last bin.
				 */
				if (b < 0)
					sn->u.thr = get_float8_nan();
				else if (b >= ft->nedges)
					sn->u.thr = get_float8_infinity();
				else
					sn->u.thr = ft->edges[b];
			}
		}
		pfree(nd);
		total += tr->nnodes;
	}
	sc->usable = true;
	return sc;
}

/*
 * scorer_goes_left
 *		Whether a row's value (NaN when missing; the level code for text)
 *		goes to the left child of an inner node.
 */
static inline bool
scorer_goes_left(const ChurnGbtScorer *sc, const ScorerNode *sn, double x)
{
	if (likely(!(sn->flags & SNODE_CATEGORICAL)))
		return (x <= sn->u.thr) | ((isnan(x) != 0) & (sn->flags & SNODE_MISSING_LEFT));
	if (isnan(x))
		return (sn->flags & SNODE_MISSING_LEFT) != 0;
	{
		int			code = (int) x;
		const uint64 *set = &sc->catsets[sn->u.catset * 4];

		return (set[code >> 6] >> (code & 63)) & 1;
	}
}

/*
 * churn_gbt_logit
 *		Logit of a row from its raw values; with contrib, the Saabas
 *		contribution of each feature (change of node value along the path),
 *		which add up to logit - (base score + sum of root values).
 *
 * The model is const to its callers but caches its scoring layout, built on
 * the first call (in the model's memory context, so it lives as long).
 */
double
churn_gbt_logit(const ChurnModel *m, const ChurnData *d, int64 row, double *contrib)
{
	const ChurnGbtScorer *sc = m->scorer;
	const ScorerNode *nodes;
	double		z = m->intercept;
	double		x_local[65];
	double	   *x;
	int			t,
				f;

	if (sc == NULL || sc->ntrees != m->ntrees)
	{
		((ChurnModel *) m)->scorer = scorer_build(m);
		sc = m->scorer;
	}
	if (!sc->usable)
		return gbt_logit_binned(m, d, row, contrib);

	/*
	 * The row's values as doubles: NaN for missing, the level code for text
	 * (codes past the 255 of a level set are read as missing, like the
	 * missing bin they would alias).
	 */
	x = m->nfeatures < lengthof(x_local) ? x_local : palloc(sizeof(double) * (m->nfeatures + 1));
	for (f = 0; f < m->nfeatures; f++)
	{
		const ChurnColumn *c = &d->cols[f];

		if (m->features[f].kind == CHURN_NUMERIC)
			x[f] = c->num[row];
		else
			x[f] = c->cat[row] < 0 || c->cat[row] >= CHURN_MISSING_BIN
				? get_float8_nan() : (double) c->cat[row];
	}
	x[m->nfeatures] = 0;		/* what leaves compare */

	nodes = sc->nodes;
	if (contrib)
		memset(contrib, 0, sizeof(double) * m->nfeatures);

	/*
	 * Lanes of trees in lockstep.  Leaf values are added in tree order, and
	 * contributions from the recorded paths, tree after tree and along each
	 * path, so every sum is made in the order of a one-tree walk.
	 */
	for (t = 0; t + SCORER_LANES <= m->ntrees; t += SCORER_LANES)
	{
		int32		n[SCORER_LANES];
		int32		path[SCORER_MAX_PATH + 1][SCORER_LANES];
		int32		steps = 0;
		int			j,
					k;

		for (j = 0; j < SCORER_LANES; j++)
			steps = Max(steps, sc->depth[t + j]);
		if (contrib && steps > SCORER_MAX_PATH)
			break;				/* the one-tree walk below takes the rest */
		for (j = 0; j < SCORER_LANES; j++)
		{
			n[j] = sc->root[t + j];
			path[0][j] = n[j];
		}
		for (k = 0; k < steps; k++)
		{
			for (j = 0; j < SCORER_LANES; j++)
			{
				const ScorerNode *sn = &nodes[n[j]];

				n[j] = sn->left + !scorer_goes_left(sc, sn, x[sn->feature]);
			}
			if (contrib)
				memcpy(path[k + 1], n, sizeof(n));
		}
		if (contrib)
		{
			for (j = 0; j < SCORER_LANES; j++)
				for (k = 0; k < steps && path[k][j] != path[k + 1][j]; k++)
					contrib[nodes[path[k][j]].feature] +=
						sc->value[path[k + 1][j]] - sc->value[path[k][j]];
		}
		for (j = 0; j < SCORER_LANES; j++)
			z += sc->value[n[j]];
	}
	for (; t < m->ntrees; t++)
	{
		int32		n = sc->root[t];

		while (!(nodes[n].flags & SNODE_LEAF))
		{
			int32		next;

			f = nodes[n].feature;
			next = nodes[n].left + !scorer_goes_left(sc, &nodes[n], x[f]);
			if (contrib)
				contrib[f] += sc->value[next] - sc->value[n];
			n = next;
		}
		z += sc->value[n];
	}
	if (x != x_local)
		pfree(x);

#ifdef CHURN_GBT_VERIFY

	/*
	 * Build with COPT=-DCHURN_GBT_VERIFY to check every score against the
	 * binned walk, bit for bit.
	 */
	{
		double	   *c2 = contrib ? palloc(sizeof(double) * m->nfeatures) : NULL;
		double		z2 = gbt_logit_binned(m, d, row, c2);

		if (z2 != z)
			elog(ERROR, "churn scorer: row " INT64_FORMAT " logit %.17g, binned walk %.17g",
				 row, z, z2);
		for (f = 0; contrib && f < m->nfeatures; f++)
			if (c2[f] != contrib[f])
				elog(ERROR, "churn scorer: row " INT64_FORMAT " feature %d contribution %.17g, binned walk %.17g",
					 row, f, contrib[f], c2[f]);
		if (c2)
			pfree(c2);
	}
#endif
	return z;
}
