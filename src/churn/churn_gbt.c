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
 *
 * No randomness: the same data and parameters give the same trees.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "churn/churn.h"

#define NBIN		256
#define CAT_SMOOTH	10.0
#define MIN_HESS	1e-3
#define BIN_SAMPLE	200000

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
	uint8	  **bins;			/* per feature, per data row */
	int		   *nbins;			/* real bins per feature */
	bool	   *is_cat;
	double	   *g;				/* per data row */
	double	   *h;
	int64	   *idx;			/* training rows, partitioned by the tree */
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
 * make_bins
 *		Learn bin edges from the training rows and bin every row of the data.
 */
static void
make_bins(GbtState *s, const int64 *train, int64 ntrain)
{
	ChurnData  *d = s->d;
	int			f;
	int			max_bins = Min(Max(s->p->gbt_max_bins, 2), CHURN_MAX_BINS);
	double	   *buf = palloc_extended(sizeof(double) * Max(Min(ntrain, BIN_SAMPLE), 1), MCXT_ALLOC_HUGE);

	for (f = 0; f < s->nf; f++)
	{
		ChurnColumn *c = &d->cols[f];
		ChurnFeature *ft = &s->m->features[f];
		uint8	   *b = palloc_extended(Max(d->nrows, 1), MCXT_ALLOC_HUGE);
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
			for (i = 0; i < d->nrows; i++)
				b[i] = c->cat[i] < 0 ? CHURN_MISSING_BIN : (uint8) c->cat[i];
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
			for (i = 0; i < d->nrows; i++)
				b[i] = isnan(c->num[i]) ? CHURN_MISSING_BIN : (uint8) numeric_bin(ft, c->num[i]);
			s->nbins[f] = ft->nedges + 1;
			s->is_cat[f] = false;
		}
		s->bins[f] = b;
	}
	pfree(buf);
}

/*
 * build_hist
 *		Sum gradients, hessians and counts per feature and bin over
 *		idx[start, end).
 */
static void
build_hist(GbtState *s, HistEntry *hist, int64 start, int64 end)
{
	int			f;

	memset(hist, 0, sizeof(HistEntry) * NBIN * s->nf);
	for (f = 0; f < s->nf; f++)
	{
		const uint8 *bf = s->bins[f];
		HistEntry  *hf = hist + f * NBIN;
		int64		i;

		for (i = start; i < end; i++)
		{
			int64		r = s->idx[i];
			HistEntry  *e = &hf[bf[r]];

			e->g += s->g[r];
			e->h += s->h[r];
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
	if (n < 2 * p->gbt_min_leaf || (p->gbt_max_depth > 0 && leaf->depth >= p->gbt_max_depth))
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
 *		Leaf reached by a data row, using the binned values.
 */
static int
leaf_binned(GbtState *s, const ChurnTree *t, int64 r)
{
	int			node = 0;

	while (t->feature[node] >= 0)
	{
		int			f = t->feature[node];

		node = goes_left(s->is_cat[f], t->bin[node], t->missing_left[node],
						 &t->catset[node * 4], s->bins[f][r])
			? t->left[node] : t->right[node];
	}
	return node;
}

/*
 * grow_tree
 *		Grow one tree on the current gradients; adds the leaf values to the
 *		training rows' scores.
 */
static void
grow_tree(GbtState *s, ChurnTree *t, int64 ntrain, double *score)
{
	const ChurnParams *p = s->p;
	int			max_leaves = Max(p->gbt_max_leaves, 2);
	int			max_nodes = 2 * max_leaves - 1;
	GbtLeaf    *leaves = palloc0(sizeof(GbtLeaf) * max_leaves);
	int			nleaves = 1;
	double		lr = p->gbt_learning_rate;
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
		leaves[0].G += s->g[s->idx[i]];
		leaves[0].H += s->h[s->idx[i]];
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

		/* Partition the rows of the leaf in place: left ones first. */
		a = pl->start;
		b = pl->end - 1;
		while (a <= b)
		{
			if (goes_left(s->is_cat[f], sp.bin, sp.missing_left, sp.catset, s->bins[f][s->idx[a]]))
				a++;
			else
			{
				int64		tmp = s->idx[a];

				s->idx[a] = s->idx[b];
				s->idx[b] = tmp;
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

		/* Histograms: build the smaller child, subtract for the larger. */
		rl->hist = palloc_extended(sizeof(HistEntry) * NBIN * s->nf, MCXT_ALLOC_HUGE);
		{
			HistEntry  *parent = ll->hist;
			HistEntry  *big;
			int64		k;
			bool		left_small = (ll->end - ll->start) <= (rl->end - rl->start);

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
			ll->G += s->g[s->idx[i]];
			ll->H += s->h[s->idx[i]];
		}
		for (i = rl->start; i < rl->end; i++)
		{
			rl->G += s->g[s->idx[i]];
			rl->H += s->h[s->idx[i]];
		}
		t->value[ll->node] = -ll->G / (ll->H + p->gbt_l2) * lr;
		t->value[rl->node] = -rl->G / (rl->H + p->gbt_l2) * lr;
		find_split(s, ll);
		find_split(s, rl);
	}

	for (l = 0; l < nleaves; l++)
	{
		double		v = t->value[leaves[l].node];

		for (i = leaves[l].start; i < leaves[l].end; i++)
			score[s->idx[i]] += v;
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
	double	   *score = palloc_extended(sizeof(double) * Max(d->nrows, 1), MCXT_ALLOC_HUGE);
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
	m->algorithm = CHURN_GBT;
	m->nfeatures = d->ncols;
	m->features = palloc0(sizeof(ChurnFeature) * d->ncols);
	m->trees = palloc0(sizeof(ChurnTree) * Max(max_iter, 1));
	s.bins = palloc0(sizeof(uint8 *) * s.nf);
	s.nbins = palloc0(sizeof(int) * s.nf);
	s.is_cat = palloc0(sizeof(bool) * s.nf);
	s.g = palloc_extended(sizeof(double) * Max(d->nrows, 1), MCXT_ALLOC_HUGE);
	s.h = palloc_extended(sizeof(double) * Max(d->nrows, 1), MCXT_ALLOC_HUGE);
	s.idx = palloc_extended(sizeof(int64) * Max(ntrain, 1), MCXT_ALLOC_HUGE);

	churn_progress(progress, "binning features", ntrain, 0);
	make_bins(&s, train, ntrain);

	for (i = 0; i < ntrain; i++)
		pos += d->label[train[i]];
	base = log(pos / (ntrain - pos));
	m->intercept = base;
	for (i = 0; i < d->nrows; i++)
		score[i] = base;

	for (it = 0; it < max_iter; it++)
	{
		ChurnTree  *t = &m->trees[it];

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < ntrain; i++)
		{
			int64		r = train[i];
			double		q = churn_sigmoid(score[r]);

			s.g[r] = q - d->label[r];
			s.h[r] = Max(q * (1 - q), 1e-16);
			s.idx[i] = r;
		}
		grow_tree(&s, t, ntrain, score);
		m->ntrees = it + 1;

		if (nvalid > 0)
		{
			double		loss = 0;

			for (i = 0; i < nvalid; i++)
			{
				int64		r = valid[i];
				double		z;

				score[r] += t->value[leaf_binned(&s, t, r)];
				z = score[r];
				loss += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - (d->label[r] ? z : 0);
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
	return m;
}

/*
 * churn_gbt_logit
 *		Logit of a row from its raw values; with contrib, the Saabas
 *		contribution of each feature (change of node value along the path),
 *		which add up to logit - (base score + sum of root values).
 */
double
churn_gbt_logit(const ChurnModel *m, const ChurnData *d, int64 row, double *contrib)
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
