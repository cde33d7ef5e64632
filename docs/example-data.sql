-- The example data of the docs: tables iris, wine, breast_cancer and diabetes, loaded with psql
-- from the CSV files that Debian's python3-sklearn ships, in
-- /usr/lib/python3/dist-packages/sklearn/datasets/data.
-- Run it with psql from the repository's root:  \i docs/example-data.sql
-- (each file's first line holds counts, not data: tail skips it; class numbers become labels)

CREATE TABLE iris (sepal_length float8, sepal_width float8, petal_length float8, petal_width float8,
                   species text);
\copy iris FROM PROGRAM 'tail -n +2 /usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv' CSV
UPDATE iris SET species = (ARRAY['setosa', 'versicolor', 'virginica'])[species::int + 1];

CREATE TABLE wine (alcohol float8, malic_acid float8, ash float8, alcalinity_of_ash float8,
                   magnesium float8, total_phenols float8, flavanoids float8,
                   nonflavanoid_phenols float8, proanthocyanins float8, color_intensity float8,
                   hue float8, od280_od315_of_diluted_wines float8, proline float8, cultivar text);
\copy wine FROM PROGRAM 'tail -n +2 /usr/lib/python3/dist-packages/sklearn/datasets/data/wine_data.csv' CSV
UPDATE wine SET cultivar = 'class_' || cultivar;

CREATE TABLE breast_cancer (
  mean_radius float8, mean_texture float8, mean_perimeter float8, mean_area float8,
  mean_smoothness float8, mean_compactness float8, mean_concavity float8,
  mean_concave_points float8, mean_symmetry float8, mean_fractal_dimension float8,
  radius_error float8, texture_error float8, perimeter_error float8, area_error float8,
  smoothness_error float8, compactness_error float8, concavity_error float8,
  concave_points_error float8, symmetry_error float8, fractal_dimension_error float8,
  worst_radius float8, worst_texture float8, worst_perimeter float8, worst_area float8,
  worst_smoothness float8, worst_compactness float8, worst_concavity float8,
  worst_concave_points float8, worst_symmetry float8, worst_fractal_dimension float8,
  diagnosis text);
\copy breast_cancer FROM PROGRAM 'tail -n +2 /usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv' CSV
UPDATE breast_cancer SET diagnosis = CASE diagnosis WHEN '0' THEN 'malignant' ELSE 'benign' END;

CREATE TABLE diabetes (age float8, sex float8, bmi float8, bp float8, s1 float8, s2 float8,
                       s3 float8, s4 float8, s5 float8, s6 float8, progression float8);
CREATE TEMP TABLE diabetes_x (n serial, LIKE diabetes);
CREATE TEMP TABLE diabetes_y (n serial, progression float8);
\copy diabetes_x (age, sex, bmi, bp, s1, s2, s3, s4, s5, s6) FROM PROGRAM 'zcat /usr/lib/python3/dist-packages/sklearn/datasets/data/diabetes_data_raw.csv.gz' DELIMITER ' '
\copy diabetes_y (progression) FROM PROGRAM 'zcat /usr/lib/python3/dist-packages/sklearn/datasets/data/diabetes_target.csv.gz'
INSERT INTO diabetes SELECT x.age, x.sex, x.bmi, x.bp, x.s1, x.s2, x.s3, x.s4, x.s5, x.s6, y.progression
FROM diabetes_x x JOIN diabetes_y y USING (n) ORDER BY n;
DROP TABLE diabetes_x, diabetes_y;
