# Upgrade from release 0.1.0, built from its own commit with its own shared
# library: an installation with snapshots, a model of every algorithm,
# scoring runs, drift checks, grants and pg_cron jobs is updated in place
# (new library, ALTER EXTENSION pg_mlops UPDATE).  Afterwards every old model
# predicts what it predicted before, snapshots verify, ml.reproduce gives the
# same bits where the algorithm's training did not change and names the
# release that changed it where it did, the jobs still run, and the catalog
# equals a new install's.
#
# Needs the commit of 0.1.0 in this clone's history; a shallow clone skips
# the test and says so.
use strict;
use warnings;
use Cwd qw(getcwd);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $release_commit = 'c8e5b5a';    # pg_mlops 0.1.0
my $root = getcwd();
my $git = "git -c safe.directory='*' -C '$root'";
if (system("$git cat-file -e '$release_commit^{commit}' >/dev/null 2>&1") != 0)
{
	plan skip_all => "SKIPPED: commit $release_commit (pg_mlops 0.1.0) is not in this clone's history";
}

# A private copy of this PostgreSQL installation (it holds the build under
# test, installed by make test), with 0.1.0 installed over it.
chomp(my $bindir = `pg_config --bindir`);
chomp(my $sharedir = `pg_config --sharedir`);
chomp(my $pkglibdir = `pg_config --pkglibdir`);
my $inst = dirname($bindir);
my $tmp = PostgreSQL::Test::Utils::tempdir();
my $tree = "$tmp/tree";
make_path("$tree" . dirname($inst), "$tree" . dirname($sharedir));
system('cp', '-a', $inst, "$tree$inst") == 0 or die "copying $inst";
system('cp', '-a', $sharedir, "$tree$sharedir") == 0 or die "copying $sharedir";

my $src = "$tmp/pg_mlops-0.1.0";
make_path($src);
system("$git archive $release_commit | tar -x -C '$src'") == 0 or die "git archive $release_commit";
my $make = "make -C '$src' -s PG_CONFIG='$bindir/pg_config'";
system("$make -j2 >'$tmp/build.log' 2>&1 && $make install DESTDIR='$tree' >>'$tmp/build.log' 2>&1") == 0
  or BAIL_OUT("building pg_mlops 0.1.0 failed: " . slurp_file("$tmp/build.log"));

my $node = PostgreSQL::Test::Cluster->new('upgrade', install_path => "$tree$inst");
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\nlc_messages = 'C'\n");
$node->start;

sub sql { return $node->safe_psql('postgres', "SET client_min_messages = warning; SET ml.progress = off;\n" . $_[0]); }

# Release 0.1.0, with data.
sql(q{
CREATE EXTENSION pg_cron;
CREATE EXTENSION pg_mlops;
CREATE ROLE alice LOGIN;
CREATE ROLE bob LOGIN;
GRANT CREATE ON SCHEMA public TO alice;
GRANT USAGE ON SCHEMA cron TO alice;
});
is(sql(q{SELECT extversion FROM pg_extension WHERE extname = 'pg_mlops'}), '0.1.0', 'release 0.1.0 installed');

# Every algorithm, with a text and a date column among the features where
# the algorithm takes them.
my %models = (
	u_linear => q{'price', 'linear_regression', '{}', '{area,rooms,district,listed_on}'},
	u_ridge => q{'price', 'ridge', '{"alpha": 2}', '{area,rooms,district,listed_on}'},
	u_lasso => q{'price', 'lasso', '{"alpha": 0.5}', '{area,rooms,district,listed_on}'},
	u_enet => q{'price', 'elastic_net', '{"alpha": 0.5, "l1_ratio": 0.3}', '{area,rooms,district,listed_on}'},
	u_logit => q{'expensive', 'logistic_regression', '{"alpha": 1}', '{area,rooms,district,listed_on}'},
	u_softmax => q{'band', 'softmax_regression', '{"alpha": 1}', '{area,rooms,district}'},
	u_bayes => q{'band', 'naive_bayes', '{}', '{area,rooms,listed_on}'},
	u_kmeans => q{NULL, 'kmeans', '{"k": 3}', '{area,rooms}'},
	u_pca => q{NULL, 'pca', '{"n_components": 2}', '{area,rooms,listed_on}'},
	u_tree => q{'band', 'decision_tree', '{"max_depth": 4}', '{area,rooms,district,listed_on}'},
	u_forest => q{'price', 'random_forest', '{"n_trees": 10, "max_depth": 4}', '{area,rooms,district,listed_on}'},
	u_boost => q{'price', 'gradient_boosting', '{"n_trees": 12, "max_depth": 3}', '{area,rooms,district,listed_on}'},
);
# What each model's predictions are read as.
my %reads = (
	u_logit => 'ml.predict_proba', u_softmax => 'ml.predict_proba', u_bayes => 'ml.predict_proba',
	u_tree => 'ml.predict_proba', u_pca => 'ml.transform');

my $train = join("\n", map { "SELECT version FROM ml.train_model('$_', 'snapshot:homes_v1', $models{$_});" } sort keys %models);
$node->safe_psql('postgres', qq{
SET ROLE alice;
SET ml.progress = off;
SET client_min_messages = warning;
CREATE TABLE homes AS
SELECT i AS id, (50 + i % 150)::float8 AS area, (i % 5) AS rooms,
       (ARRAY['north', 'south', 'east'])[1 + i % 3] AS district,
       date '2020-01-01' + (i * 7) % 1000 AS listed_on,
       1000 + 12 * (50 + i % 150) + 40 * (i % 5) + 30 * sin(i) + CASE i % 3 WHEN 0 THEN 25 ELSE 0 END AS price,
       1000 + 12 * (50 + i % 150) + 40 * (i % 5) + 30 * sin(i) > 2400 AS expensive,
       CASE WHEN 12 * (50 + i % 150) + 40 * (i % 5) + 30 * sin(i * 3) < 1300 THEN 'low'
            WHEN 12 * (50 + i % 150) + 40 * (i % 5) + 30 * sin(i * 3) < 1900 THEN 'mid' ELSE 'high' END AS band
FROM generate_series(1, 900) i;
SELECT name FROM ml.snapshot('homes', name => 'homes_v1');
$train
SELECT name, stage FROM ml.promote('u_linear', 1);
SELECT ml.score('u_linear', 'homes', 'home_scores', 'id');
SELECT ml.score('u_boost', 'SELECT * FROM homes WHERE rooms = 2', 'boost_scores', 'id');
SELECT count(*) FROM ml.check_drift('u_linear', 'homes');
SELECT ml.grant_model('u_linear', 'bob', 'use');
SELECT cron.schedule('score_homes', '0 3 * * *', \$\$SELECT ml.score('u_linear', 'homes', 'home_scores', 'id')\$\$);
SELECT cron.schedule('drift_homes', '0 4 * * *', \$\$SELECT count(*) FROM ml.check_drift('u_linear', 'homes')\$\$);
});
is(sql(q{SELECT count(*) FROM ml.models}), scalar(keys %models), 'a model of every algorithm under 0.1.0');

my $before = join(",\n",
	map { my $f = $reads{$_} // 'ml.predict'; "$f('$_\@1', h) AS $_" } sort keys %models);
$node->safe_psql('postgres', "SET ROLE alice; CREATE TABLE before_update AS SELECT h.id, $before FROM homes h;");
# The committed fixture of test/sql/20_model_formats.sql comes from here:
# ML_WRITE_FORMAT_FIXTURE=path writes 0.1.0's bytes and predictions there.
if (my $fixture = $ENV{ML_WRITE_FORMAT_FIXTURE})
{
	my $rows = join(",\n",
		map { my $f = $reads{$_} // 'ml.predict'; "('$_', h.id, ($f('$_\@1', h))::text)" } sort keys %models);
	my $models = $node->safe_psql('postgres', q{SET extra_float_digits = 3;
COPY (SELECT name, task, algorithm, target, features, hyperparams, seed, encode(model, 'hex'), model_hash
      FROM ml.models ORDER BY name) TO STDOUT});
	my $preds = $node->safe_psql('postgres', qq{SET ROLE alice; SET extra_float_digits = 3;
COPY (SELECT p.* FROM homes h, LATERAL (VALUES $rows) p(name, id, value) WHERE h.id <= 40 ORDER BY 1, 2) TO STDOUT});
	open(my $fh, '>', $fixture) or die "$fixture: $!";
	print $fh "-- Models written by pg_mlops 0.1.0 (model format 2), one per algorithm, and their\n",
	  "-- predictions on rows 1-40 of homes; made by test/t/008_upgrade.pl with\n",
	  "-- ML_WRITE_FORMAT_FIXTURE set.\n",
	  "CREATE TEMP TABLE stored_models (name text, task text, algorithm text, target text, features text[],\n",
	  "    hyperparams jsonb, seed integer, model_hex text, model_hash text);\n",
	  "COPY stored_models FROM stdin;\n$models\n\\.\n",
	  "CREATE TEMP TABLE stored_predictions (name text, id integer, value text);\n",
	  "COPY stored_predictions FROM stdin;\n$preds\n\\.\n";
	close($fh);
}

my $lineage_before = sql(q{SELECT count(*) FROM ml.lineage});
my $scored_before = sql(q{SELECT count(*) FROM home_scores});
my $bytes_before = sql(q{SELECT string_agg(name || ':' || model_hash, ',' ORDER BY name) FROM ml.models});

# The new build replaces the library and the scripts; then the update.
$node->stop;
system('cp', "$pkglibdir/pg_mlops.so", "$tree$pkglibdir/pg_mlops.so") == 0 or die;
system("cp '$sharedir'/extension/pg_mlops* '$tree$sharedir/extension/'") == 0 or die;
$node->start;
sql(q{ALTER EXTENSION pg_mlops UPDATE});
is(sql(q{SELECT extversion FROM pg_extension WHERE extname = 'pg_mlops'}), '0.2.0', 'updated to 0.2.0 in place');
is(sql(q{SELECT string_agg(name || ':' || model_hash, ',' ORDER BY name) FROM ml.models}), $bytes_before,
	'every model keeps its bytes');

# Every old model predicts what it predicted under 0.1.0's library.
for my $m (sort keys %models)
{
	my $f = $reads{$m} // 'ml.predict';
	is($node->safe_psql('postgres', qq{SET ROLE alice;
SELECT count(*) || ' rows, ' || count(*) FILTER (WHERE b.$m IS DISTINCT FROM $f('$m\@1', h)) || ' differ'
FROM homes h JOIN before_update b USING (id)}), '900 rows, 0 differ', "$m: the same predictions after the update");
}

is(sql(q{SELECT intact AND split_intact FROM ml.verify_snapshot('homes_v1')}), 't', 'the old snapshot verifies');
is(sql(q{SELECT count(*) FROM ml.lineage}) >= $lineage_before ? 1 : 0, 1, 'lineage keeps every old edge');
is(sql(q{SELECT count(DISTINCT relation) FROM ml.lineage WHERE relation IN ('scored_by', 'drift_checked')}), 2,
	'old scoring runs and drift checks are in the lineage');
is($node->safe_psql('postgres', q{SET ROLE bob; SELECT ml.predict('u_linear', h) IS NOT NULL
FROM (SELECT 120::float8 AS area, 2 AS rooms, 'north' AS district, date '2021-05-01' AS listed_on) h}),
	't', "bob's grant from 0.1.0 still lets him predict");

# ml.reproduce: identical bits unless a later release changed the algorithm's
# training, and then it names that release.
my %changed = map { $_ => 1 } qw(u_linear u_ridge u_kmeans u_tree u_forest u_boost);
for my $m (sort keys %models)
{
	my $r = sql(qq{SELECT identical::text || ' ' || coalesce(changed_in, '-') FROM ml.reproduce('$m\@1')});
	if ($changed{$m})
	{
		like($r, qr/^(true|false) 0\.2\.0$/, "$m: reproduce names release 0.2.0, which changed its training");
	}
	else
	{
		is($r, 'true -', "$m: reproduce gives the same bits");
	}
}

# The jobs pg_cron kept run under 0.2.0.
is(sql(q{SELECT string_agg(jobname, ',' ORDER BY jobname) FROM cron.job}), 'drift_homes,score_homes', 'the pg_cron jobs are kept');
for my $job ('score_homes', 'drift_homes')
{
	my $cmd = sql(qq{SELECT command FROM cron.job WHERE jobname = '$job'});
	my ($rc, $out, $err) = $node->psql('postgres', "SET ROLE alice; SET ml.progress = off; $cmd");
	is($rc, 0, "job $job runs after the update") or diag($err);
}
is(sql(q{SELECT count(*) FROM home_scores}), 2 * $scored_before, 'the scoring job appended a second run');

# The updated catalog is a new install's, and every object in the schemas
# belongs to the extension (pg_dump shows only CREATE EXTENSION for them).
sql(q{CREATE DATABASE fresh});
$node->safe_psql('fresh', q{CREATE EXTENSION pg_mlops});
my $shape = slurp_file("$root/test/regress/catalog_shape.sql") .
  q{SELECT md5(string_agg(kind || ':' || name || ':' || coalesce(shape, ''), E'\n' ORDER BY kind, name)) FROM catalog_shape;};
my $updated = $node->safe_psql('postgres', $shape);
my $fresh = $node->safe_psql('fresh', $shape);
is($updated, $fresh, 'the updated catalog equals a new install of 0.2.0');
# Schema ml is made by CREATE EXTENSION (the control file names it), so a
# dump creates it first; everything in it belongs to the extension.
my @dump = map { "'$tree$inst/bin/pg_dump' --schema-only -h '${\$node->host}' -p ${\$node->port} -n ml $_" } ('postgres', 'fresh');
# (without the random key of \restrict, which pg_dump draws per run)
my ($updated_dump, $fresh_dump) = map { join("\n", grep { !/^\\(un)?restrict / } split /\n/, scalar `$_`) } @dump;
is(join("\n", grep { /^CREATE / } split /\n/, $updated_dump), 'CREATE SCHEMA ml;',
	'pg_dump --schema-only -n ml creates only the schema: every object in it is the extension\'s');
is($updated_dump, $fresh_dump, 'and dumps schema ml as it dumps a new install');
like(`'$tree$inst/bin/pg_dump' --schema-only -h '${\$node->host}' -p ${\$node->port} postgres`,
	qr/CREATE EXTENSION IF NOT EXISTS pg_mlops WITH SCHEMA ml;/, 'pg_dump restores the extension with CREATE EXTENSION');

$node->stop;
done_testing();
