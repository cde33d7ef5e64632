-- NIST StRD linear least squares: log relative error of every coefficient
-- and standard error against the certified values (computed by NIST in
-- 500-digit arithmetic).  Data: test/data/nist_strd (public domain).
SET ml.progress = off;
CREATE TABLE certified (dataset text, degree int, k int, estimate float8, std_error float8);
INSERT INTO certified
SELECT d, deg, k - 1, e, s FROM (VALUES
 ('Filip', 10, ARRAY[-1467.48961422980, -2772.17959193342, -2316.37108160893, -1127.97394098372, -354.478233703349, -75.1242017393757, -10.8753180355343, -1.06221498588947, -0.670191154593408E-01, -0.246781078275479E-02, -0.402962525080404E-04],
               ARRAY[298.084530995537, 559.779865474950, 466.477572127796, 227.204274477751, 71.6478660875927, 15.2897178747400, 2.23691159816033, 0.221624321934227, 0.142363763154724E-01, 0.535617408889821E-03, 0.896632837373868E-05]),
 ('Pontius', 2, ARRAY[0.673565789473684E-03, 0.732059160401003E-06, -0.316081871345029E-14],
                ARRAY[0.107938612033077E-03, 0.157817399981659E-09, 0.486652849992036E-16]),
 ('Wampler1', 5, ARRAY[1, 1, 1, 1, 1, 1], ARRAY[0, 0, 0, 0, 0, 0]),
 ('Wampler2', 5, ARRAY[1, 0.1, 0.01, 0.001, 0.0001, 0.00001], ARRAY[0, 0, 0, 0, 0, 0]),
 ('Wampler3', 5, ARRAY[1, 1, 1, 1, 1, 1], ARRAY[2152.32624678170, 2363.55173469681, 779.343524331583, 101.475507550350, 5.64566512170752, 0.112324854679312]),
 ('Wampler4', 5, ARRAY[1, 1, 1, 1, 1, 1], ARRAY[215232.624678170, 236355.173469681, 77934.3524331583, 10147.5507550350, 564.566512170752, 11.2324854679312]),
 ('Wampler5', 5, ARRAY[1, 1, 1, 1, 1, 1], ARRAY[21523262.4678170, 23635517.3469681, 7793435.24331583, 1014755.07550350, 56456.6512170752, 1123.24854679312])
) AS c(d, deg, est, se), LATERAL unnest(est::float8[], se::float8[]) WITH ORDINALITY AS u(e, s, k);

CREATE TABLE nist_raw (dataset text, y float8, x float8);
CREATE TEMP TABLE load (y float8, x float8);
\copy load FROM 'test/data/nist_strd/Filip.csv' CSV HEADER
INSERT INTO nist_raw SELECT 'Filip', * FROM load; TRUNCATE load;
\copy load FROM 'test/data/nist_strd/Pontius.csv' CSV HEADER
INSERT INTO nist_raw SELECT 'Pontius', * FROM load; TRUNCATE load;
\copy load FROM 'test/data/nist_strd/Wampler1.csv' CSV HEADER
INSERT INTO nist_raw SELECT 'Wampler1', * FROM load; TRUNCATE load;
\copy load FROM 'test/data/nist_strd/Wampler2.csv' CSV HEADER
INSERT INTO nist_raw SELECT 'Wampler2', * FROM load; TRUNCATE load;
\copy load FROM 'test/data/nist_strd/Wampler3.csv' CSV HEADER
INSERT INTO nist_raw SELECT 'Wampler3', * FROM load; TRUNCATE load;
\copy load FROM 'test/data/nist_strd/Wampler4.csv' CSV HEADER
INSERT INTO nist_raw SELECT 'Wampler4', * FROM load; TRUNCATE load;
\copy load FROM 'test/data/nist_strd/Wampler5.csv' CSV HEADER
INSERT INTO nist_raw SELECT 'Wampler5', * FROM load; TRUNCATE load;
SELECT dataset, count(*) FROM nist_raw GROUP BY 1 ORDER BY 1;

-- Powers of x computed by repeated multiplication; all rows train (test_fraction 0).
CREATE FUNCTION nist_fit(ds text, deg int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    cols text;
BEGIN
    SELECT string_agg(format('x%s', k), ', ') INTO cols FROM generate_series(1, deg) k;
    EXECUTE format('CREATE TABLE %I AS SELECT y, %s FROM (SELECT y, %s FROM nist_raw WHERE dataset = %L) s',
                   'nist_' || lower(ds), cols,
                   (SELECT string_agg(format('%s AS x%s', (SELECT string_agg('x', ' * ') FROM generate_series(1, k)), k), ', ')
                    FROM generate_series(1, deg) k), ds);
    PERFORM ml.train_model('nist_' || lower(ds), 'nist_' || lower(ds), 'y', test_fraction => 0);
END $$;
SELECT nist_fit(dataset, degree) FROM (SELECT DISTINCT dataset, degree FROM certified) d ORDER BY dataset;

CREATE FUNCTION lre(est float8, cert float8) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
    SELECT least(15, CASE WHEN cert = 0 THEN -log(greatest(abs(est), 1e-300))
                          WHEN est = cert THEN 15
                          ELSE -log(abs(est - cert) / abs(cert)) END)
$$;
CREATE TABLE nist_lre AS
SELECT c.dataset, c.k, lre(e.coefficient, c.estimate) AS coef_lre,
       CASE WHEN c.std_error <> 0 THEN lre(e.std_error, c.std_error) END AS se_lre
FROM certified c
CROSS JOIN LATERAL (SELECT x.*, row_number() OVER () - 1 AS k FROM ml.explain('nist_' || lower(c.dataset)) x) e
WHERE e.k = c.k;

-- Requirement: every coefficient >= 7.5 digits on Filip, >= 13 on the others
-- (an exact fit such as Wampler1 is refined too: its error bound is eps kappa);
-- standard errors >= 6 digits where certified non-zero.  scikit-learn's
-- digits on the same designs: test/reference/check_nist_vs_sklearn.py.
SELECT dataset, count(*) AS coefficients,
       min(coef_lre) >= CASE dataset WHEN 'Filip' THEN 7.5 ELSE 13 END AS coefficients_ok,
       coalesce(min(se_lre) >= 6, true) AS std_errors_ok
FROM nist_lre GROUP BY dataset ORDER BY dataset;
-- Filip's certified residual standard deviation and R squared.
SELECT lre((summary->>'residual_sd')::float8, 0.334801051324544E-02) >= 7 AS residual_sd_ok,
       lre((summary->>'r2')::float8, 0.996727416185620) >= 7 AS r2_ok
FROM ml.models WHERE name = 'nist_filip';
