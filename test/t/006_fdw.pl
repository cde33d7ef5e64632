# Scale-out: a partitioned table whose partitions are postgres_fdw foreign
# tables on a second instance trains through the aggregate engine, its rows
# never copied, and gives the model of the same rows in a local table.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $data = PostgreSQL::Test::Cluster->new('data_node');
$data->init;
$data->start;
my $coord = PostgreSQL::Test::Cluster->new('coordinator');
$coord->init;
$coord->start;

# The rows live on the data node, in two tables.
my $rows = q{SELECT i, sin(i)::float8 AS x1, cos(i * 0.37)::float8 AS x2,
       (ARRAY['red', 'green', 'blue'])[1 + i % 3] AS color,
       1 + 2 * sin(i) - cos(i * 0.37) + 0.1 * sin(i * 7.7) + CASE i % 3 WHEN 0 THEN 0.5 ELSE 0 END AS y,
       2 * sin(i) - cos(i * 0.37) + sin(i * 5.3) > 0.2 AS hot,
       (i % 2) AS part
FROM generate_series(1, 30000) i};
$data->safe_psql('postgres', "CREATE TABLE rows_even AS SELECT * FROM ($rows) r WHERE part = 0;
CREATE TABLE rows_odd AS SELECT * FROM ($rows) r WHERE part = 1;");

# The coordinator sees them as foreign partitions of one table, and has the same rows locally.
my $host = $data->host;
my $port = $data->port;
$coord->safe_psql('postgres', qq{
CREATE EXTENSION pg_mlops;
CREATE EXTENSION postgres_fdw;
CREATE SERVER data_node FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$host', port '$port', dbname 'postgres');
CREATE USER MAPPING FOR CURRENT_USER SERVER data_node;
CREATE TABLE dist (i integer, x1 float8, x2 float8, color text, y float8, hot boolean, part integer) PARTITION BY LIST (part);
CREATE FOREIGN TABLE dist_even PARTITION OF dist FOR VALUES IN (0) SERVER data_node OPTIONS (table_name 'rows_even');
CREATE FOREIGN TABLE dist_odd PARTITION OF dist FOR VALUES IN (1) SERVER data_node OPTIONS (table_name 'rows_odd');
CREATE TABLE local_copy AS SELECT * FROM ($rows) r;
});

is($coord->safe_psql('postgres', 'SELECT ml._is_remote_source(\'dist\')'), 't', 'the partitioned table is a remote source');
is($coord->safe_psql('postgres', 'SELECT ml._is_remote_source(\'local_copy\')'), 'f', 'a local table is not');

# Snapshots: the remote one is a view (rows not copied), with the same hash and split.
$coord->safe_psql('postgres', q{SET ml.progress = off;
SELECT ml.snapshot('dist', name => 'remote');
SELECT ml.snapshot('local_copy', name => 'local');});
is($coord->safe_psql('postgres', q{SELECT relkind FROM pg_class WHERE oid = (SELECT relation FROM ml.snapshots WHERE name = 'remote')::regclass}),
	'v', 'the remote snapshot is a view over the source');
is($coord->safe_psql('postgres', q{SELECT count(DISTINCT content_hash) || ' ' || count(DISTINCT train_count) FROM ml.snapshots}),
	'1 1', 'same content hash and split as the local rows');
is($coord->safe_psql('postgres', q{SELECT intact AND split_intact FROM ml.verify_snapshot('remote')}), 't',
	'verify_snapshot checks the live source');

# Training: the remote source goes through the aggregate engine on its own.
$coord->safe_psql('postgres', q{SET ml.progress = off;
SELECT ml.train_model('remote_lin', 'snapshot:remote', 'y', features => '{x1,x2,color}');
SELECT ml.train_model('local_lin', 'snapshot:local', 'y', features => '{x1,x2,color}');
SELECT ml.train_model('remote_logit', 'snapshot:remote', 'hot', 'logistic_regression', '{}', '{x1,x2,color}');
SELECT ml.train_model('local_logit', 'snapshot:local', 'hot', 'logistic_regression', '{}', '{x1,x2,color}');});
is($coord->safe_psql('postgres', q{SELECT string_agg(name || ':' || (summary->>'engine'), ',' ORDER BY name) FROM ml.models}),
	'local_lin:parallel,local_logit:parallel,remote_lin:aggregate,remote_logit:aggregate', 'remote models trained through aggregates');
for my $m (['remote_lin', 'local_lin'], ['remote_logit', 'local_logit'])
{
	my ($r, $l) = @$m;
	my $res = $coord->safe_psql('postgres', qq{
SELECT count(*) || ' ' || max(abs(a.coefficient - b.coefficient) / greatest(abs(a.coefficient), abs(b.coefficient))) || ' ' || bool_and(abs(a.coefficient - b.coefficient) <= 1e-12 * greatest(abs(a.coefficient), abs(b.coefficient)))
FROM ml.explain('$r') a JOIN ml.explain('$l') b ON a.feature = b.feature AND a.class IS NOT DISTINCT FROM b.class});
	like($res, qr/^\d+ \S+ true$/, "$r has the coefficients of $l within 1e-12 relative");
	is($coord->safe_psql('postgres', qq{SELECT (SELECT metrics->'test'->'rows' FROM ml.models WHERE name = '$r') = (SELECT metrics->'test'->'rows' FROM ml.models WHERE name = '$l')}),
		't', "$r was evaluated on the same test rows");
}
# The data node kept its rows; nothing was copied to the coordinator.
is($coord->safe_psql('postgres', q{SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'ml_data' AND c.relkind = 'r'}), '1', 'only the local snapshot copied rows');

done_testing();
