/*
 * forest.c: a trained forest as stored in a model: validation of its
 * arrays, scoring, feature importance and Tree SHAP (see tree.h).  Nothing
 * here builds trees (tree.c does), so scoring depends only on the model's
 * arrays.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"

#define MAX_OUTPUTS MLC_TREE_MAX_OUTPUTS	/* scoring buffer on the stack */
#define MAX_FOREST_DEPTH 64		/* bounds the Tree SHAP recursion */

/* ---------- forests: validation, scoring ---------- */

static int
is_index(double v, double lo, double hi)
{
	return v >= lo && v < hi && v == floor(v);
}

mlc_status
mlc_forest_validate(mlc_forest *f, mlc_error *err)
{
	int			t,
				i,
				start = 0,
				maxn = 0,
				maxd = 0;
	int		   *depth;
	mlc_status	st = MLC_OK;

	if (f == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "missing forest");
	if (f->objective < MLC_OBJ_SQUARED || f->objective > MLC_OBJ_AVERAGE ||
		f->n_outputs < 1 || f->n_outputs > MAX_OUTPUTS ||
		(f->value_width != 1 && f->value_width != f->n_outputs) ||
		f->n_trees < 0 || f->n_nodes < 0 || f->n_features < 0 ||
		f->base_score == NULL ||
		(f->objective == MLC_OBJ_LOGISTIC && f->n_outputs != 1) ||
		(f->objective == MLC_OBJ_SQUARED && f->n_outputs != 1) ||
		(f->objective == MLC_OBJ_SOFTMAX && f->n_outputs < 2))
		return mlc_fail(err, MLC_ECORRUPT, NULL, "invalid tree model header");
	if (f->n_trees > 0 && (f->tree_nodes == NULL || f->tree_output == NULL ||
						   f->tree_scale == NULL))
		return mlc_fail(err, MLC_ECORRUPT, NULL, "missing tree arrays");
	if (f->n_nodes > 0 && (f->feature == NULL || f->threshold == NULL ||
						   f->left == NULL || f->right == NULL ||
						   f->default_left == NULL || f->value == NULL ||
						   f->cover == NULL || f->gain == NULL))
		return mlc_fail(err, MLC_ECORRUPT, NULL, "missing node arrays");
	for (i = 0; i < f->n_outputs; i++)
		if (!isfinite(f->base_score[i]))
			return mlc_fail(err, MLC_ECORRUPT, NULL, "non-finite base score");
	for (t = 0; t < f->n_trees; t++)
	{
		double		nt = f->tree_nodes[t],
					o = f->tree_output[t];

		if (!is_index(nt, 1, (double) f->n_nodes - start + 1) ||
			!isfinite(f->tree_scale[t]) ||
			!(o == floor(o) && o >= -1 && o < f->n_outputs) ||
			(o == -1 && f->value_width != f->n_outputs) ||
			(o >= 0 && f->value_width != 1))
			return mlc_fail(err, MLC_ECORRUPT, NULL, "invalid tree %d", t);
		if ((int) nt > maxn)
			maxn = (int) nt;
		start += (int) nt;
	}
	if (start != f->n_nodes)
		return mlc_fail(err, MLC_ECORRUPT, NULL, "node count mismatch");
	if (f->n_nodes == 0)
	{
		f->max_depth = 0;
		return MLC_OK;
	}
	depth = mlc_alloc((size_t) maxn * sizeof(int));
	if (depth == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory validating trees");
	start = 0;
	for (t = 0; t < f->n_trees && st == MLC_OK; t++)
	{
		int			nt = (int) f->tree_nodes[t];

		for (i = 0; i < nt; i++)
			depth[i] = -1;
		depth[0] = 0;
		for (i = 0; i < nt && st == MLC_OK; i++)
		{
			int			g = start + i,
						k;

			if (depth[i] < 0 || !(f->cover[g] >= 0) || !isfinite(f->cover[g]) ||
				!isfinite(f->gain[g]))
				st = mlc_fail(err, MLC_ECORRUPT, NULL, "invalid node %d of tree %d", i, t);
			for (k = 0; k < f->value_width && st == MLC_OK; k++)
				if (!isfinite(f->value[(size_t) g * f->value_width + k]))
					st = mlc_fail(err, MLC_ECORRUPT, NULL, "non-finite value in tree %d", t);
			if (st != MLC_OK)
				break;
			if (f->feature[g] == -1)
			{
				if (f->left[g] != -1 || f->right[g] != -1)
					st = mlc_fail(err, MLC_ECORRUPT, NULL, "leaf with children in tree %d", t);
				continue;
			}
			if (!is_index(f->feature[g], 0, f->n_features) ||
				!isfinite(f->threshold[g]) ||
				!(f->default_left[g] == 0 || f->default_left[g] == 1) ||
				!is_index(f->left[g], i + 1, nt) || !is_index(f->right[g], i + 1, nt) ||
				f->left[g] == f->right[g] ||
				depth[(int) f->left[g]] >= 0 || depth[(int) f->right[g]] >= 0 ||
				depth[i] + 1 > MAX_FOREST_DEPTH)
			{
				st = mlc_fail(err, MLC_ECORRUPT, NULL, "invalid split node %d of tree %d",
							  i, t);
				break;
			}
			depth[(int) f->left[g]] = depth[i] + 1;
			depth[(int) f->right[g]] = depth[i] + 1;
			if (depth[i] + 1 > maxd)
				maxd = depth[i] + 1;
		}
		start += nt;
	}
	mlc_free(depth);
	if (st == MLC_OK)
		f->max_depth = maxd;
	return st;
}

mlc_status
mlc_forest_view(const mlc_model *m, mlc_forest *f, mlc_error *err)
{
	const mlc_array *info,
			   *a;
	int			T,
				N,
				V,
				W;

#define GET(var, nm, r, c) \
	do { \
		a = mlc_model_array(m, nm, r, c); \
		if (a == NULL) \
			return mlc_fail(err, MLC_ECORRUPT, NULL, "missing or misshapen array %s", nm); \
		var = a->data; \
	} while (0)

	if (m == NULL || f == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "missing model");
	memset(f, 0, sizeof(*f));
	info = mlc_model_array(m, "tree_info", 1, 3);
	if (info == NULL)
		return mlc_fail(err, MLC_ECORRUPT, NULL, "missing array tree_info");
	if (!is_index(info->data[0], 1, 5) || !is_index(info->data[1], 1, MAX_OUTPUTS + 1) ||
		!is_index(info->data[2], 1, MAX_OUTPUTS + 1))
		return mlc_fail(err, MLC_ECORRUPT, NULL, "invalid tree_info");
	f->nodes = NULL;
	f->objective = (int) info->data[0];
	V = f->n_outputs = (int) info->data[1];
	W = f->value_width = (int) info->data[2];
	f->n_features = m->n_features;
	a = NULL;
	{
		int			i;

		for (i = 0; i < m->n_arrays; i++)
			if (strcmp(m->arrays[i].name, "tree_nodes") == 0)
				a = &m->arrays[i];
	}
	if (a == NULL || a->rows != 1 || a->cols < 0)
		return mlc_fail(err, MLC_ECORRUPT, NULL, "missing array tree_nodes");
	T = a->cols;
	{
		double		s = 0;
		int			i;

		for (i = 0; i < T; i++)
		{
			if (!is_index(a->data[i], 1, 1e9))
				return mlc_fail(err, MLC_ECORRUPT, NULL, "invalid tree_nodes");
			s += a->data[i];
		}
		if (s > 1e9)
			return mlc_fail(err, MLC_ECORRUPT, NULL, "too many nodes");
		N = (int) s;
	}
	f->n_trees = T;
	f->n_nodes = N;
	f->tree_nodes = a->data;
	GET(f->base_score, "base_score", 1, V);
	if (T > 0)
	{
		GET(f->tree_output, "tree_output", 1, T);
		GET(f->tree_scale, "tree_scale", 1, T);
	}
	if (N > 0)
	{
		GET(f->feature, "node_feature", N, 1);
		GET(f->threshold, "node_threshold", N, 1);
		GET(f->left, "node_left", N, 1);
		GET(f->right, "node_right", N, 1);
		GET(f->default_left, "node_default_left", N, 1);
		GET(f->value, "node_value", N, W);
		GET(f->cover, "node_cover", N, 1);
		GET(f->gain, "node_gain", N, 1);
	}
#undef GET
	return MLC_OK;
}

mlc_status
mlc_forest_from_model(const mlc_model *m, mlc_forest *f, mlc_error *err)
{
	mlc_status	st = mlc_forest_view(m, f, err);

	return st != MLC_OK ? st : mlc_forest_validate(f, err);
}

mlc_status
mlc_forest_compile(mlc_forest *f, mlc_error *err)
{
	int			t,
				i,
				start = 0;

	f->nodes = mlc_alloc(sizeof(mlc_node) * (size_t) (f->n_nodes > 0 ? f->n_nodes : 1));
	if (f->nodes == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for the trees' nodes");
	for (t = 0; t < f->n_trees; t++)
	{
		int			n = (int) f->tree_nodes[t];

		for (i = start; i < start + n; i++)
		{
			mlc_node   *d = &f->nodes[i];

			d->threshold = f->threshold[i];
			d->feature = (int32_t) f->feature[i];
			d->left = d->feature >= 0 ? start + (int32_t) f->left[i] : i;
			d->right = d->feature >= 0 ? start + (int32_t) f->right[i] : i;
			d->default_left = f->default_left[i] != 0;
		}
		start += n;
	}
	return MLC_OK;
}

/*
 * Trees walked LEAF_BLOCK at a time in lockstep: one walk is a chain of
 * dependent loads, so independent walks side by side keep the core busy.
 * The leaves are then added in tree order, as one walk at a time would.
 */
#define LEAF_BLOCK 8

void
mlc_trees_predict_raw(const mlc_forest *f, const double *x, double *raw)
{
	const mlc_node *N = f->nodes;
	const double *value = f->value;
	int			t,
				k,
				start = 0;

	for (k = 0; k < f->n_outputs; k++)
		raw[k] = f->base_score[k];
	for (t = 0; t < f->n_trees; t += LEAF_BLOCK)
	{
		int			nb = f->n_trees - t < LEAF_BLOCK ? f->n_trees - t : LEAF_BLOCK,
					node[LEAF_BLOCK],
					j,
					active = 1;

		for (j = 0; j < nb; j++)
		{
			node[j] = start;
			start += (int) f->tree_nodes[t + j];
		}
		while (active)
		{
			active = 0;
			for (j = 0; j < nb; j++)
			{
				const mlc_node *n = &N[node[j]];

				if (n->feature >= 0)
				{
					double		v = x[n->feature];
					int			go_left = (v < n->threshold) | (isnan(v) & n->default_left);

					node[j] = go_left ? n->left : n->right;
					active = 1;
				}
			}
		}
		for (j = 0; j < nb; j++)
		{
			int			o = (int) f->tree_output[t + j];
			int			leaf = node[j];

			if (o >= 0)
				raw[o] += f->tree_scale[t + j] * value[leaf];
			else
				for (k = 0; k < f->n_outputs; k++)
					raw[k] += f->tree_scale[t + j] * value[(size_t) leaf * f->value_width + k];
		}
	}
}

double
mlc_trees_predict(const mlc_forest *f, const double *x, double *proba)
{
	double		buf[MAX_OUTPUTS];
	double	   *r = proba != NULL ? proba : buf;
	int			V = f->n_outputs,
				k,
				best = 0;

	if (f->objective == MLC_OBJ_LOGISTIC)
	{
		double		p;

		mlc_trees_predict_raw(f, x, buf);
		p = 1 / (1 + exp(-buf[0]));
		if (proba != NULL)
		{
			proba[0] = 1 - p;
			proba[1] = p;
		}
		return p > 0.5 ? 1 : 0;
	}
	if (V == 1)
	{
		mlc_trees_predict_raw(f, x, buf);
		return buf[0];
	}
	mlc_trees_predict_raw(f, x, r);
	if (f->objective == MLC_OBJ_SOFTMAX)
	{
		double		mx = r[0],
					s = 0;

		for (k = 1; k < V; k++)
			if (r[k] > mx)
				mx = r[k];
		for (k = 0; k < V; k++)
		{
			r[k] = exp(r[k] - mx);
			s += r[k];
		}
		for (k = 0; k < V; k++)
			r[k] /= s;
	}
	for (k = 1; k < V; k++)
		if (r[k] > r[best])
			best = k;
	return best;
}

void
mlc_forest_importance(const mlc_forest *f, double *gain, double *cover, double *count)
{
	int			i;

	for (i = 0; i < f->n_nodes; i++)
	{
		int			j = (int) f->feature[i];

		if (j < 0)
			continue;
		if (gain != NULL)
			gain[j] += f->gain[i];
		if (cover != NULL)
			cover[j] += f->cover[i];
		if (count != NULL)
			count[j] += 1;
	}
}

/* ---------- Tree SHAP ---------- */

typedef struct path_elem
{
	int			feature;
	double		z;				/* fraction of zero paths (feature unknown) */
	double		o;				/* one paths (feature known): 1 or 0 */
	double		w;				/* permutation weight */
} path_elem;

typedef struct shap_ctx
{
	const mlc_forest *f;
	const double *x;
	double	   *phi;
	int			start;
	int			out;			/* output index, or -1 for all */
	double		scale;
} shap_ctx;

static void
path_extend(path_elem *m, int ud, double z, double o, int feature)
{
	int			i;

	m[ud].feature = feature;
	m[ud].z = z;
	m[ud].o = o;
	m[ud].w = ud == 0 ? 1.0 : 0.0;
	for (i = ud - 1; i >= 0; i--)
	{
		m[i + 1].w += o * m[i].w * (i + 1) / (double) (ud + 1);
		m[i].w = z * m[i].w * (ud - i) / (double) (ud + 1);
	}
}

static void
path_unwind(path_elem *m, int ud, int pi)
{
	double		o = m[pi].o,
				z = m[pi].z,
				n = m[ud].w;
	int			i;

	for (i = ud - 1; i >= 0; i--)
	{
		if (o != 0)
		{
			double		t = m[i].w;

			m[i].w = n * (ud + 1) / ((i + 1) * o);
			n = t - m[i].w * z * (ud - i) / (double) (ud + 1);
		}
		else
			m[i].w = m[i].w * (ud + 1) / (z * (ud - i));
	}
	for (i = pi; i < ud; i++)
	{
		m[i].feature = m[i + 1].feature;
		m[i].z = m[i + 1].z;
		m[i].o = m[i + 1].o;
	}
}

static double
path_unwound_sum(const path_elem *m, int ud, int pi)
{
	double		o = m[pi].o,
				z = m[pi].z,
				n = m[ud].w,
				total = 0;
	int			i;

	for (i = ud - 1; i >= 0; i--)
	{
		if (o != 0)
		{
			double		t = n * (ud + 1) / ((i + 1) * o);

			total += t;
			n = m[i].w - t * z * (ud - i) / (double) (ud + 1);
		}
		else
			total += (m[i].w / z) / ((double) (ud - i) / (ud + 1));
	}
	return total;
}

/* fraction of a node's cover going to child c (even split under zero cover) */
static double
child_fraction(const mlc_forest *f, int g, int c)
{
	return f->cover[g] > 0 ? f->cover[c] / f->cover[g] : 0.5;
}

static void
shap_recurse(const shap_ctx *c, int node, path_elem *parent, int ud,
			 double pz, double po, int pf)
{
	const mlc_forest *f = c->f;
	path_elem  *m = parent + ud + 1;
	int			g = c->start + node,
				F = f->n_features,
				i,
				k;

	memcpy(m, parent, (size_t) (ud + 1) * sizeof(path_elem));
	path_extend(m, ud, pz, po, pf);
	if (f->feature[g] < 0)
	{
		for (i = 1; i <= ud; i++)
		{
			double		w = path_unwound_sum(m, ud, i) * (m[i].o - m[i].z) * c->scale;

			if (c->out >= 0)
				c->phi[(size_t) c->out * (F + 1) + m[i].feature] += w * f->value[g];
			else
				for (k = 0; k < f->value_width; k++)
					c->phi[(size_t) k * (F + 1) + m[i].feature] +=
						w * f->value[(size_t) g * f->value_width + k];
		}
		return;
	}
	{
		int			fi = (int) f->feature[g];
		double		v = c->x[fi];
		int			go_left = isnan(v) ? f->default_left[g] != 0 : v < f->threshold[g];
		int			hot = (int) (go_left ? f->left[g] : f->right[g]);
		int			cold = (int) (go_left ? f->right[g] : f->left[g]);
		double		iz = 1,
					io = 1,
					hz,
					cz;

		for (i = 1; i <= ud; i++)
			if (m[i].feature == fi)
				break;
		if (i <= ud)
		{
			iz = m[i].z;
			io = m[i].o;
			path_unwind(m, ud, i);
			ud--;
		}
		hz = iz * child_fraction(f, g, c->start + hot);
		cz = iz * child_fraction(f, g, c->start + cold);
		/* an element with z = o = 0 zeroes every weight: skip the subtree */
		if (hz != 0 || io != 0)
			shap_recurse(c, hot, m, ud + 1, hz, io, fi);
		if (cz != 0)
			shap_recurse(c, cold, m, ud + 1, cz, 0, fi);
	}
}

/* cover-weighted expectation of a tree's values into e (W values) */
static void
tree_expect(const mlc_forest *f, int start, int node, double weight, double *e)
{
	int			g = start + node,
				k;

	if (f->feature[g] < 0)
	{
		for (k = 0; k < f->value_width; k++)
			e[k] += weight * f->value[(size_t) g * f->value_width + k];
		return;
	}
	tree_expect(f, start, (int) f->left[g],
				weight * child_fraction(f, g, start + (int) f->left[g]), e);
	tree_expect(f, start, (int) f->right[g],
				weight * child_fraction(f, g, start + (int) f->right[g]), e);
}

mlc_status
mlc_tree_shap(const mlc_forest *f, const double *x, double *phi, mlc_error *err)
{
	int			t,
				k,
				start = 0,
				F,
				D;
	size_t		plen;
	int64_t		work = MLC_INTERRUPT_WORK;
	path_elem  *path;
	double		e[MAX_OUTPUTS];

	if (f == NULL || x == NULL || phi == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid Tree SHAP arguments");
	if (f->max_depth < 0 || f->max_depth > MAX_FOREST_DEPTH)
		return mlc_fail(err, MLC_EINVAL, "Call mlc_forest_validate first.",
						"invalid forest depth");
	F = f->n_features;
	D = f->max_depth;
	memset(phi, 0, (size_t) f->n_outputs * (F + 1) * sizeof(double));
	plen = (size_t) (D + 2) * (D + 3) / 2 + 2;
	path = mlc_alloc(plen * sizeof(path_elem));
	if (path == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for Tree SHAP");
	for (k = 0; k < f->n_outputs; k++)
		phi[(size_t) k * (F + 1) + F] = f->base_score[k];
	for (t = 0; t < f->n_trees; t++)
	{
		shap_ctx	c;
		int			o = (int) f->tree_output[t];

		/* a tree costs about nodes * depth path updates; the first looks */
		if (work >= MLC_INTERRUPT_WORK)
		{
			if (mlc_interrupted())
			{
				mlc_free(path);
				return mlc_fail(err, MLC_EINTR, NULL, "Tree SHAP interrupted");
			}
			work = 0;
		}
		work += (int64_t) f->tree_nodes[t] * (D + 1);
		c.f = f;
		c.x = x;
		c.phi = phi;
		c.start = start;
		c.out = o;
		c.scale = f->tree_scale[t];
		memset(path, 0, plen * sizeof(path_elem));
		shap_recurse(&c, 0, path, 0, 1, 1, -1);
		memset(e, 0, (size_t) f->value_width * sizeof(double));
		tree_expect(f, start, 0, 1, e);
		if (o >= 0)
			phi[(size_t) o * (F + 1) + F] += c.scale * e[0];
		else
			for (k = 0; k < f->value_width; k++)
				phi[(size_t) k * (F + 1) + F] += c.scale * e[k];
		start += (int) f->tree_nodes[t];
	}
	mlc_free(path);
	return MLC_OK;
}
