# kill -9 of a parallel worker and of the leader backend during training, and
# of a backend taking a snapshot: the server goes through crash recovery, the
# registry holds no partial model, snapshot relations and ml.snapshots agree,
# and a new training reproduces the model trained before the crashes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf',
	"max_worker_processes = 16\nmax_parallel_workers = 8\nshared_buffers = 256MB\n"
	  . "restart_after_crash = on\n"
	  . "ml.max_parallel_workers = 2\nml.progress = off\nml.work_mem = '1MB'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_mlops');

my $cols = join(', ', map { "round(random()::numeric, 12) AS x$_" } 2 .. 10);
$node->safe_psql('postgres', qq{
	SELECT setseed(0.25);
	CREATE TABLE big AS
	  SELECT g AS id, x1, $cols, round((3 * x1 + random())::numeric, 12) AS y
	  FROM (SELECT g, round(random()::numeric, 12) AS x1 FROM generate_series(1, 1000000) g) s;
	SELECT ml.snapshot('big', name => 'bigs');
});
my $train_sql = "SELECT version FROM ml.train_model('m', 'snapshot:bigs', 'y', features => "
  . "ARRAY['x1','x2','x3','x4','x5','x6','x7','x8','x9','x10'])";

is($node->safe_psql('postgres', $train_sql), '1', 'training before the crashes');
my $hash = $node->safe_psql('postgres', "SELECT model_hash FROM ml.models WHERE version = 1");
like($hash, qr/^[0-9a-f]{64}$/, 'model hash recorded');

sub wait_for
{
	my ($sql, $secs) = @_;
	my $t0 = time;
	while (time - $t0 < $secs)
	{
		return 1 if $node->safe_psql('postgres', $sql) eq 't';
		usleep(50_000);
	}
	return 0;
}

# Snapshot relations in ml_data and rows of ml.snapshots that do not match.
my $orphans = q{
	SELECT count(*) FROM
	  (SELECT format('%I.%I', n.nspname, c.relname) AS rel
	   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	   WHERE n.nspname = 'ml_data' AND c.relkind = 'r' AND c.relname LIKE 'snapshot\_%') r
	  FULL JOIN ml.snapshots s ON s.relation = r.rel
	WHERE r.rel IS NULL OR s.relation IS NULL};

my $crashes = 0;

sub crash_case
{
	my ($what, $sql, $victim) = @_;
	my ($in, $out, $err) = ('', '', '');
	my $models = $node->safe_psql('postgres', 'SELECT count(*) FROM ml.models');
	my $snaps = $node->safe_psql('postgres', 'SELECT string_agg(name || content_hash, \',\' ORDER BY id) FROM ml.snapshots');
	my $h = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1',
		  '-d', $node->connstr('postgres') . ' application_name=victim', '-c', $sql ],
		'<', \$in, '>', \$out, '2>', \$err);
	my $running = "SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = 'victim' "
	  . "AND backend_type = 'client backend' AND state = 'active'";
	$running .= " AND EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'parallel worker')"
	  if $victim eq 'parallel worker';
	ok(wait_for($running, 30), "$what: running");
	usleep(300_000);
	my $pid = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = '"
		  . ($victim eq 'parallel worker' ? 'parallel worker' : 'client backend')
		  . "' AND application_name = 'victim' LIMIT 1");
	like($pid, qr/^\d+$/, "$what: found the $victim ($pid)");
	is(kill('KILL', $pid), 1, "$what: kill -9 the $victim");
	$h->finish;
	isnt($h->result(0), 0, "$what: the statement failed");
	$crashes++;
	# The postmaster reinitializes; wait until it accepts connections again.
	ok($node->poll_query_until('postgres', 'SELECT 1', '1'), "$what: server back after crash recovery");
	my $reinit = () = slurp_file($node->logfile) =~ /all server processes terminated; reinitializing/g;
	is($reinit, $crashes, "$what: the server went through crash recovery");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM ml.models'), $models,
		"$what: no partial model registered");
	is($node->safe_psql('postgres', 'SELECT string_agg(name || content_hash, \',\' ORDER BY id) FROM ml.snapshots'),
		$snaps, "$what: ml.snapshots unchanged");
	is($node->safe_psql('postgres', $orphans), '0',
		"$what: every snapshot relation is in ml.snapshots and vice versa");
	is($node->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'parallel worker'"),
		'0', "$what: no parallel worker left");
}

crash_case('kill -9 parallel worker during ml.train_model', $train_sql, 'parallel worker');
crash_case('kill -9 leader during ml.train_model', $train_sql, 'leader');
crash_case('kill -9 backend during ml.snapshot',
	"SELECT ml.snapshot('SELECT * FROM big', name => 'half_done')", 'leader');

is($node->safe_psql('postgres', "SELECT intact AND split_intact FROM ml.verify_snapshot('bigs')"),
	't', 'the snapshot verifies after the crashes');
is($node->safe_psql('postgres', $train_sql), '2', 'training after the crashes registers version 2');
is($node->safe_psql('postgres', "SELECT model_hash FROM ml.models WHERE version = 2"),
	$hash, 'and gives the model hash of the training before the crashes');
is($node->safe_psql('postgres', "SELECT count(*) FROM ml.model_events WHERE action = 'train'"),
	'2', 'the audit log has one train event per registered version');
is($node->safe_psql('postgres', "SELECT name FROM ml.snapshot('SELECT * FROM big WHERE id <= 1000', name => 'half_done')"),
	'half_done', 'the name of the snapshot killed in flight is free');
$node->stop;
done_testing();
