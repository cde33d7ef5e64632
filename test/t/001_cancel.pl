# Cancelling ml.train_model, ml.score and ml.check_drift: by statement_timeout
# and by pg_cancel_backend from another session.  The statement must end
# promptly with SQLSTATE 57014, leave nothing behind (registry rows, output
# tables, staging tables, parallel workers, DSM segments) and the next call
# must work.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('cancel');
$node->init;
$node->append_conf('postgresql.conf',
	"max_worker_processes = 16\nmax_parallel_workers = 8\nshared_buffers = 256MB\n"
	  . "ml.max_parallel_workers = 2\nml.progress = off\n"
	  # Rows are read from the table again in every pass: a training of
	  # the table below takes seconds, not a fraction of one.
	  . "ml.work_mem = '1MB'\n");
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION pg_mlops');

# 1,000,000 rows of 10 numeric features (numeric -> float8 conversion makes
# every pass slow); x2 is nearly collinear with x1, which adds the refinement
# pass to every training.
my $cols = join(', ', map { "round(random()::numeric, 12) AS x$_" } 3 .. 10);
$node->safe_psql('postgres', qq{
	SELECT setseed(0.5);
	CREATE TABLE big AS
	  SELECT g AS id, x1, round(x1 + 1e-4 * random()::numeric, 12) AS x2, $cols,
	         round((10 * x1 + random())::numeric, 12) AS y
	  FROM (SELECT g, round(random()::numeric, 12) AS x1 FROM generate_series(1, 1000000) g) s;
	SELECT ml.snapshot('big', name => 'bigs');
});
my $features = "ARRAY['x1','x2','x3','x4','x5','x6','x7','x8','x9','x10']";
my $train_sql = "SELECT version FROM ml.train_model('m', 'snapshot:bigs', 'y', features => $features)";

sub state_row
{
	return $node->safe_psql('postgres', q{
		SELECT (SELECT count(*) FROM ml.models) || '|' ||
		       (SELECT count(*) FROM ml.snapshots) || '|' ||
		       (SELECT string_agg(name || ':' || content_hash, ',' ORDER BY id) FROM ml.snapshots) || '|' ||
		       (SELECT count(*) FROM ml.scoring_runs) || '|' ||
		       (SELECT count(*) FROM ml.drift_checks) || '|' ||
		       (SELECT count(*) FROM ml.model_events) || '|' ||
		       (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		        WHERE n.nspname IN ('ml_data', 'public'))});
}

# Poll $sql until it returns 't', for at most $secs; returns the seconds
# waited, or undef on timeout.
sub wait_for
{
	my ($sql, $secs) = @_;
	my $t0 = time;
	while (time - $t0 < $secs)
	{
		return time - $t0 if $node->safe_psql('postgres', $sql) eq 't';
		usleep(50_000);
	}
	return undef;
}

my $no_workers = "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'parallel worker'";

# Baseline: an uncancelled training, its duration and model hash.
my $t0 = time;
is($node->safe_psql('postgres', $train_sql), '1', 'baseline training registers version 1');
my $train_secs = time - $t0;
diag(sprintf('uncancelled training: %.2f s', $train_secs));
cmp_ok($train_secs, '>', 1.0, 'training runs long enough to be cancelled in flight');
my $hash1 = $node->safe_psql('postgres', "SELECT model_hash FROM ml.models WHERE version = 1");
my $workers1 = $node->safe_psql('postgres', "SELECT workers FROM ml.models WHERE version = 1");
is($workers1, '2', 'baseline training used 2 parallel workers');

# Checks after each cancel.
sub after_cancel
{
	my ($what, $before) = @_;
	my $w = wait_for($no_workers, 5);
	ok(defined $w, "$what: no parallel worker left (after " . sprintf('%.2f', $w // -1) . ' s)');
	is(state_row(), $before, "$what: registry, snapshots, scoring runs, drift checks, events and relations unchanged");
	is($node->safe_psql('postgres',
			"SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
			  . "WHERE n.nspname = 'ml_data' AND c.relname LIKE 'scoring%'"),
		'0', "$what: no scoring staging table left");
}

my %latency;

# --- statement_timeout ----------------------------------------------------
sub timeout_case
{
	my ($what, $sql) = @_;
	my $before = state_row();
	my $t = time;
	my ($rc, $out, $err) = $node->psql('postgres',
		"SET statement_timeout = '300ms';\n$sql",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	my $el = time - $t;
	$latency{"$what, statement_timeout"} = $el - 0.3;
	diag(sprintf("%s with statement_timeout 300ms: ended after %.3f s", $what, $el));
	isnt($rc, 0, "$what: statement_timeout makes it fail");
	like($err, qr/ERROR:\s+57014: canceling statement due to statement timeout/,
		"$what: SQLSTATE 57014 (query_canceled)");
	# 5 s: the bound holds on a loaded 2-core machine; the latency itself
	# is printed above (and belongs in docs/benchmarks.md, not in a test).
	cmp_ok($el, '<', 0.3 + 5.0, "$what: ends within 5 s of the timeout");
	after_cancel("$what (timeout)", $before);
}

# --- pg_cancel_backend from a second session ------------------------------
sub cancel_case
{
	my ($what, $sql, $need_workers) = @_;
	my $before = state_row();
	my ($in, $out, $err) = ('', '', '');
	my $h = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose',
		  '-d', $node->connstr('postgres') . ' application_name=victim', '-c', $sql ],
		'<', \$in, '>', \$out, '2>', \$err);
	# Wait until it runs (with its parallel workers, where it has some).
	my $running = "SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = 'victim' AND backend_type = 'client backend' AND state = 'active'";
	$running .= " AND EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'parallel worker')" if $need_workers;
	ok(defined wait_for($running, 30), "$what: running" . ($need_workers ? ' with parallel workers' : ''));
	usleep(200_000);
	# From before the cancelling session connects: an upper bound.
	my $t = time;
	is($node->safe_psql('postgres',
			"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim' AND backend_type = 'client backend'"),
		't', "$what: pg_cancel_backend sent");
	$h->finish;
	my $el = time - $t;
	$latency{"$what, pg_cancel_backend"} = $el;
	diag(sprintf("%s: ended %.3f s after pg_cancel_backend", $what, $el));
	isnt($h->result(0), 0, "$what: cancelled statement fails");
	like($err, qr/ERROR:\s+57014: canceling statement due to user request/,
		"$what: SQLSTATE 57014 (query_canceled)");
	cmp_ok($el, '<', 5.0, "$what: ends within 5 s of the cancel");
	after_cancel("$what (pg_cancel_backend)", $before);
}

timeout_case('ml.train_model', $train_sql);
cancel_case('ml.train_model', $train_sql, 1);

# The next training of the same snapshot succeeds and is identical.
is($node->safe_psql('postgres', $train_sql), '2', 'training after the cancels registers version 2');
is($node->safe_psql('postgres', "SELECT model_hash FROM ml.models WHERE version = 2"),
	$hash1, 'and gives the same model hash as before the cancels');

my $score_sql = "SELECT ml.score('m', 'big', 'scores_new', 'id')";
timeout_case('ml.score', $score_sql);
cancel_case('ml.score', $score_sql, 0);
is($node->safe_psql('postgres', "SELECT to_regclass('scores_new') IS NULL"), 't',
	'ml.score: the output table was not left behind');

my $drift_sql = "SELECT count(*) FROM ml.check_drift('m', 'big')";
timeout_case('ml.check_drift', $drift_sql);
cancel_case('ml.check_drift', $drift_sql, 0);

# Everything still works afterwards.
is($node->safe_psql('postgres',
		"SELECT ml.score('m', 'SELECT * FROM big WHERE id <= 1000', 'scores_small', 'id')"),
	'1000', 'ml.score after the cancels');
cmp_ok($node->safe_psql('postgres', "SELECT count(*) FROM ml.check_drift('m')"), '>', 0,
	'ml.check_drift after the cancels');
is($node->safe_psql('postgres', "SELECT count(*) FROM ml.scoring_runs"), '1',
	'exactly one scoring run recorded (the uncancelled one)');

# Dynamic shared memory and resources: nothing leaked, no backend crashed.
my $log = slurp_file($node->logfile);
unlike($log, qr/leak/i, 'server log: no leak warnings');
unlike($log, qr/dynamic shared memory/i, 'server log: no dynamic shared memory warnings');
unlike($log, qr/terminated by signal|PANIC|TRAP:/, 'server log: no crashed process');
$node->stop;

diag(sprintf("cancel latency %-40s %.3f s", $_, $latency{$_})) for sort keys %latency;
done_testing();
