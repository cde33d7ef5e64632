-- Aggregates: training statistics as combinable (parallel, distributed)
-- aggregates users can call (ml.linreg_stats, logistic_stats, ...) and the
-- aggregate engine that trains on foreign, partitioned and Citus tables.

-- Linear-regression statistics of rows (n, means, R of the centered [x y]),
-- combinable, and the least-squares (or ridge) fit from them.
CREATE OR REPLACE FUNCTION ml._linreg_stats_accum(float8[], float8, float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_linreg_stats_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._linreg_stats_combine(float8[], float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_linreg_stats_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE ml.linreg_stats(y float8, x float8[]) (
    SFUNC = ml._linreg_stats_accum,
    STYPE = float8[],
    COMBINEFUNC = ml._linreg_stats_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml.linreg_stats(float8, float8[]) IS
    'linear regression statistics of rows (skips rows with NULL or non-finite values); fit with ml.linreg_solve';
CREATE OR REPLACE FUNCTION ml._linreg_solve(stats float8[], alpha float8) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_linreg_solve' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml.linreg_solve(stats float8[], alpha float8 DEFAULT 0)
RETURNS TABLE (term integer, coefficient float8)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (u.o - 1)::integer, u.c FROM unnest(ml._linreg_solve(stats, alpha)) WITH ORDINALITY AS u(c, o)
$$;
COMMENT ON FUNCTION ml.linreg_solve(float8[], float8) IS
    'coefficients (term 0: intercept, then features 1..p) fitted from ml.linreg_stats';

----------------------------------------------------------------------------
-- Scale-out: training statistics as combinable aggregates (aggengine.c)
----------------------------------------------------------------------------

-- Every statistics aggregate below keeps its state in a bytea (not
-- internal), with a combine function: PostgreSQL's parallel aggregation
-- (Partial Aggregate -> Gather -> Finalize Aggregate) and distributed
-- engines that ship partial states between nodes (Citus) can run them.
-- A state is a block of buffered rows plus the combined statistics of the
-- blocks before it, computed by the same core code the parallel engine
-- runs per chunk.
CREATE OR REPLACE FUNCTION ml._agg_combine(bytea, bytea) RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_agg_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._agg_final(bytea) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_agg_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._agg_state_info(bytea) RETURNS jsonb
AS 'MODULE_PATHNAME', 'ml_agg_state_info' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- One pass of a training (driven from C by the aggregate engine): rows of
-- the relation, encoded by the plan, into the pass's combined partial.
CREATE OR REPLACE FUNCTION ml._pass_accum(bytea, record, boolean, bytea, integer, float8[]) RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_pass_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE ml._pass(record, boolean, bytea, integer, float8[]) (
    SFUNC = ml._pass_accum,
    STYPE = bytea,
    FINALFUNC = ml._agg_final,
    COMBINEFUNC = ml._agg_combine,
    PARALLEL = SAFE
);

-- Logistic regression: n, log-likelihood, positives, gradient and Hessian
-- at beta (intercept first); layout MLC_LOGISTIC_PARTIAL_DOUBLES in
-- src/core/classify.h.  One Newton step per query.
CREATE OR REPLACE FUNCTION ml._logistic_stats_accum(bytea, float8[], float8, float8[]) RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_logistic_stats_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE ml.logistic_stats(beta float8[], y float8, x float8[]) (
    SFUNC = ml._logistic_stats_accum,
    STYPE = bytea,
    FINALFUNC = ml._agg_final,
    COMBINEFUNC = ml._agg_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml.logistic_stats(float8[], float8, float8[]) IS
    'logistic regression statistics at beta: n, log-likelihood, positives, gradient, Hessian (combinable)';

-- Softmax regression: n, loss and gradient at W (K rows of p + 1 weights).
CREATE OR REPLACE FUNCTION ml._softmax_stats_accum(bytea, float8[], integer, float8[]) RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_softmax_stats_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE ml.softmax_stats(w float8[], class integer, x float8[]) (
    SFUNC = ml._softmax_stats_accum,
    STYPE = bytea,
    FINALFUNC = ml._agg_final,
    COMBINEFUNC = ml._agg_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml.softmax_stats(float8[], integer, float8[]) IS
    'softmax regression statistics at W: n, loss, gradient (combinable)';

-- k-means: per-centroid counts and sums and the inertia at the centroids
-- (k rows of p); one Lloyd step per query.
CREATE OR REPLACE FUNCTION ml._kmeans_stats_accum(bytea, float8[], float8[]) RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_kmeans_stats_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE ml.kmeans_stats(centroids float8[], x float8[]) (
    SFUNC = ml._kmeans_stats_accum,
    STYPE = bytea,
    FINALFUNC = ml._agg_final,
    COMBINEFUNC = ml._agg_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml.kmeans_stats(float8[], float8[]) IS
    'k-means statistics at given centroids: counts, sums per centroid, inertia (combinable)';

-- Gaussian naive Bayes: per class n, means and M2 (merged by Chan's rule).
CREATE OR REPLACE FUNCTION ml._nb_stats_accum(bytea, integer, integer, float8[]) RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_nb_stats_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE ml.nb_stats(k integer, class integer, x float8[]) (
    SFUNC = ml._nb_stats_accum,
    STYPE = bytea,
    FINALFUNC = ml._agg_final,
    COMBINEFUNC = ml._agg_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml.nb_stats(integer, integer, float8[]) IS
    'naive Bayes statistics: per class count, means and sums of squared deviations (combinable)';

-- Column profile of a number: count, NULLs, min, max, mean, M2 (Chan's
-- merge), the moments part of a snapshot profile, combinable.
CREATE OR REPLACE FUNCTION ml._profile_accum(float8[], float8) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_profile_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._profile_combine(float8[], float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_profile_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._profile_final(float8[]) RETURNS jsonb
AS 'MODULE_PATHNAME', 'ml_profile_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE ml.column_profile(float8) (
    SFUNC = ml._profile_accum,
    STYPE = float8[],
    FINALFUNC = ml._profile_final,
    COMBINEFUNC = ml._profile_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml.column_profile(float8) IS
    'count, NULLs, min, max, mean and standard deviation of a column (combinable)';

-- Whether training on a relation runs through the aggregates: a foreign
-- table, a partitioned table, a view, or a Citus distributed table.
CREATE OR REPLACE FUNCTION ml._needs_aggregates(rel regclass) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF (SELECT relkind NOT IN ('r', 'm') FROM pg_class WHERE oid = rel) THEN
        RETURN true;
    END IF;
    IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        RETURN EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = rel);
    END IF;
    RETURN false;
END $$;

-- Whether a source's rows live elsewhere: a foreign table, a partitioned
-- table with a foreign partition (at any depth), or a Citus distributed table.
CREATE OR REPLACE FUNCTION ml._is_remote_source(rel regclass) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_partition_tree(rel) t JOIN pg_class c ON c.oid = t.relid
               WHERE c.relkind = 'f') OR (SELECT relkind = 'f' FROM pg_class WHERE oid = rel) THEN
        RETURN true;
    END IF;
    IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        RETURN EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = rel);
    END IF;
    RETURN false;
END $$;
