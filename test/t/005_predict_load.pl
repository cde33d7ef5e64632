# ml.predict under load while versions change: pgbench runs 16 clients that
# each insert predictions (one float8[] and one row per statement, 5 rows a
# statement) while a background session promotes version 2 and rolls back to
# version 1 every 50 ms.  No error; every prediction equals, bit for bit, the
# prediction of version 1 or version 2 for its input; all predictions of one
# statement come from one version; both versions were served; one
# production version at the end; one audit event per promote and rollback.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);

my $secs = 10;
my $clients = 16;

my $node = PostgreSQL::Test::Cluster->new('predict_load');
$node->init;
$node->append_conf('postgresql.conf',
	"max_connections = 60\nml.progress = off\nlog_min_messages = warning\n");
$node->start;

# Two versions of 'm' on the same features (a, b) with clearly different
# coefficients: version 1 fits y = 2a - b + 1, version 2 fits y = -3a + 5b + 10.
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_mlops;
	CREATE TABLE d1 AS SELECT sin(g) AS a, cos(g) AS b, 2 * sin(g) - cos(g) + 1 + 0.01 * sin(7 * g) AS y
	FROM generate_series(1, 2000) g;
	CREATE TABLE d2 AS SELECT sin(g) AS a, cos(g) AS b, -3 * sin(g) + 5 * cos(g) + 10 + 0.01 * sin(5 * g) AS y
	FROM generate_series(1, 2000) g;
	SELECT ml.snapshot('SELECT a, b, y FROM d1', name => 's1');
	SELECT ml.snapshot('SELECT a, b, y FROM d2', name => 's2');
	SELECT ml.train_model('m', 'snapshot:s1', 'y');
	SELECT ml.train_model('m', 'snapshot:s2', 'y');
	SELECT ml.promote('m', 1);
	-- the inputs: 100 rows, scored as a row (columns by name) and as float8[]
	CREATE TABLE t (id int PRIMARY KEY, a float8, b float8);
	INSERT INTO t SELECT g, g / 10.0 - 5, (g % 13) / 3.0 - 2 FROM generate_series(1, 100) g;
	CREATE TABLE preds (stmt bigint NOT NULL DEFAULT txid_current(), id int NOT NULL,
	                    p_arr float8 NOT NULL, p_row float8 NOT NULL);
});
is($node->safe_psql('postgres', q{SELECT string_agg(version || ':' || stage, ',' ORDER BY version) FROM ml.models WHERE name = 'm'}),
	'1:production,2:none', 'two versions, version 1 in production');

# The reference predictions of each version, with fixed version references.
$node->safe_psql('postgres', q{
	CREATE TABLE expected AS
	SELECT id, ml.predict('m@1', ARRAY[a, b]::float8[]) AS arr1, ml.predict('m@2', ARRAY[a, b]::float8[]) AS arr2,
	       ml.predict('m@1', t) AS row1, ml.predict('m@2', t) AS row2
	FROM t;
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM expected WHERE arr1 = arr2 OR row1 = row2 OR arr1 <> row1 OR arr2 <> row2}),
	'0', 'the versions predict differently for every input; row and array agree');

my $script = PostgreSQL::Test::Utils::tempdir() . "/predict_load.sql";
PostgreSQL::Test::Utils::append_to_file($script, <<'SQL');
\set id random(1, 96)
INSERT INTO preds (id, p_arr, p_row) SELECT id, ml.predict('m', ARRAY[a, b]::float8[]), ml.predict('m', t) FROM t WHERE id BETWEEN :id AND :id + 4;
SQL

# The promoter: promote 2, wait, roll back to 1, wait, for $secs seconds,
# each call its own transaction.
my %prom = (in => '', out => '', err => '');
$prom{h} = IPC::Run::start(
	[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1',
	  '-d', $node->connstr('postgres') . ' application_name=promoter',
	  '-c', qq{DO \$\$
DECLARE n int := 0; stop timestamptz := clock_timestamp() + interval '$secs s';
BEGIN
  WHILE clock_timestamp() < stop LOOP
    PERFORM ml.promote('m', 2);
    COMMIT;
    PERFORM pg_sleep(0.05);
    PERFORM ml.rollback('m');
    COMMIT;
    PERFORM pg_sleep(0.05);
    n := n + 1;
  END LOOP;
  RAISE NOTICE 'cycles: %', n;
END \$\$} ],
	'<', \$prom{in}, '>', \$prom{out}, '2>', \$prom{err});

my ($bout, $berr) = ('', '');
my $t0 = time;
my $brc = IPC::Run::run(
	[ 'pgbench', '-n', '-c', $clients, '-j', 4, '-T', $secs, '-f', $script,
	  '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$bout, '2>', \$berr);
my $elapsed = time - $t0;
$prom{h}->finish;

ok($brc, 'pgbench exits 0') or diag("$bout\n$berr");
like($bout, qr/number of clients: $clients\b/, "pgbench ran $clients clients");
my ($processed) = $bout =~ /number of transactions actually processed: (\d+)/;
my ($failed) = $bout =~ /number of failed transactions: (\d+)/;
my ($tps) = $bout =~ /tps = ([0-9.]+)/;
is($failed // 0, 0, 'no failed transaction');
cmp_ok($processed // 0, '>', 100, 'pgbench processed transactions');
unlike($berr, qr/ERROR|FATAL/, 'no error in pgbench output') or diag($berr);
is($prom{h}->result(0), 0, 'the promoter finished without error') or diag($prom{err});
my ($cycles) = $prom{err} =~ /cycles: (\d+)/;
$cycles //= 0;
cmp_ok($cycles, '>', 10, 'the promoter ran many promote/rollback cycles');
diag(sprintf('pgbench: %d transactions in %.1f s, tps %s; promoter: %d cycles', $processed // 0, $elapsed, $tps // '?', $cycles));

is($node->safe_psql('postgres', 'SELECT count(*) FROM preds'), 5 * ($processed // 0),
	'5 predictions stored per transaction');
is($node->safe_psql('postgres', q{
		SELECT count(*) FROM preds p JOIN expected e USING (id)
		WHERE NOT ((p.p_arr = e.arr1 AND p.p_row = e.row1) OR (p.p_arr = e.arr2 AND p.p_row = e.row2))}),
	'0', 'every prediction equals exactly version 1 or version 2, array and row from the same version');
my $per_version = $node->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE p.p_arr = e.arr1) || ',' || count(*) FILTER (WHERE p.p_arr = e.arr2)
	FROM preds p JOIN expected e USING (id)});
my ($n1, $n2) = split /,/, $per_version;
diag("predictions from version 1: $n1, from version 2: $n2");
cmp_ok($n1, '>', 0, 'version 1 served predictions');
cmp_ok($n2, '>', 0, 'version 2 served predictions (promotions happened during the run)');
is($node->safe_psql('postgres', q{
		SELECT count(*) FROM (
		  SELECT stmt FROM preds p JOIN expected e USING (id)
		  GROUP BY stmt HAVING count(DISTINCT p.p_arr = e.arr1) > 1) x}),
	'0', 'all predictions of one statement come from one version');

is($node->safe_psql('postgres', "SELECT string_agg(version::text, ',') FROM ml.models WHERE name = 'm' AND stage = 'production'"),
	'1', 'exactly one production version at the end: version 1');
is($node->safe_psql('postgres', q{SELECT count(*) FILTER (WHERE action = 'promote') || ',' || count(*) FILTER (WHERE action = 'rollback') FROM ml.model_events}),
	(1 + $cycles) . ",$cycles", 'one audit event per promote and per rollback');

my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|PANIC|TRAP:|deadlock detected/, 'no crash or deadlock in the server log');
$node->stop;
done_testing();
