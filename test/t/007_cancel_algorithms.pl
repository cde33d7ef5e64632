# Cancelling ml.train_model for every algorithm, at any depth or max_iter:
# each training below would run for many seconds; it is cancelled with
# pg_cancel_backend about 1 s after it starts and must end with SQLSTATE
# 57014 within 5 s (the issue's goal is 0.5 s on an idle machine; 5 s holds
# on a loaded 2-core one), registering nothing.  The latencies are printed
# (bench/cancel.sh measures 10 per algorithm for docs/benchmarks.md).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('cancel_algorithms');
$node->init;
$node->append_conf('postgresql.conf',
	"max_worker_processes = 16\nmax_parallel_workers = 8\nshared_buffers = 256MB\n"
	  . "ml.max_parallel_workers = 2\nml.progress = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_mlops');

# 200,000 rows: 20 numbers (x2 nearly collinear with x1), a text column of
# 300 categories (one-hot: 320 features, so every pass does real work),
# a number, a binary, a 5-class and a 200-class target.  Generated in
# about a second; the snapshot's profile takes longer (about 10 s).
my $xs = join(', ', map { "random() AS x$_" } 3 .. 20);
$node->safe_psql('postgres', qq{
	SELECT setseed(0.5);
	CREATE TABLE d AS
	  SELECT x1, x1 + 1e-3 * random() AS x2, $xs,
	         'c' || (g % 300) AS cat,
	         10 * x1 + (g % 300) / 150.0 + random() AS y,
	         (x1 + random() > 1)::int AS c,
	         floor(5 * (x1 + random()) / 2)::int AS k,
	         (g % 200)::int AS kk
	  FROM (SELECT g, random() AS x1 FROM generate_series(1, 200000) g) s;
	SELECT 1 FROM ml.snapshot('d', name => 'ds');
});
my $features = 'ARRAY[' . join(',', map { "'x$_'" } 1 .. 20) . ",'cat']";

# algorithm, target, hyperparameters: each runs for many seconds here.
my @cases = (
	[ 'linear_regression', "'y'", '{"max_categories": 300}' ],
	[ 'ridge', "'y'", '{"max_categories": 300}' ],
	[ 'lasso', "'y'", '{"alpha": 1e-9, "max_iter": 10000000, "tol": 0}' ],
	[ 'elastic_net', "'y'", '{"alpha": 1e-9, "max_iter": 10000000, "tol": 0}' ],
	[ 'logistic_regression', "'c'", '{"max_iter": 10000, "tol": 0}' ],
	[ 'softmax_regression', "'k'", '{"max_iter": 100000, "tol": 0}' ],
	[ 'naive_bayes', "'kk'", '{"max_categories": 300, "max_classes": 200}' ],
	[ 'kmeans', 'NULL', '{"k": 500, "max_iter": 100000, "tol": 0}' ],
	[ 'pca', 'NULL', '{"max_categories": 300}' ],
	[ 'decision_tree', "'y'", '{"max_depth": 20}' ],
	[ 'random_forest', "'y'", '{"n_trees": 100, "max_depth": 20}' ],
	[ 'gradient_boosting', "'y'", '{"n_trees": 100, "max_depth": 20}' ]);

# Poll $sql until it returns 't', for at most $secs; seconds waited or undef.
sub wait_for
{
	my ($sql, $secs) = @_;
	my $t0 = time;
	while (time - $t0 < $secs)
	{
		return time - $t0 if $node->safe_psql('postgres', $sql) eq 't';
		usleep(20_000);
	}
	return undef;
}

my %latency;
foreach my $c (@cases)
{
	my ($alg, $target, $hp) = @$c;
	my $app = "victim_$alg";
	# trees keep their rows in memory: give them room
	my $sql = "SET ml.work_mem = '512MB'; SELECT version FROM ml.train_model('m_$alg', "
	  . "'snapshot:ds', $target, algorithm => '$alg', hyperparams => '$hp', features => $features)";
	my ($in, $out, $err) = ('', '', '');
	my $t_start = time;
	my $h = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose',
		  '-d', $node->connstr('postgres') . " application_name=$app", '-c', $sql ],
		'<', \$in, '>', \$out, '2>', \$err);
	my $active = "SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = '$app' "
	  . "AND backend_type = 'client backend' AND state = 'active'";
	ok(defined wait_for($active, 30), "$alg: training running");
	# cancel about 1 s into the training, wherever it is then
	my $left = 1.0 - (time - $t_start);
	usleep(int($left * 1e6)) if $left > 0;
	my $t = time;
	is($node->safe_psql('postgres',
			"SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
			  . "WHERE application_name = '$app' AND backend_type = 'client backend'"),
		't', "$alg: pg_cancel_backend sent");
	$h->finish;
	my $el = time - $t;
	$latency{$alg} = $el;
	diag(sprintf('%-20s ended %.3f s after pg_cancel_backend (%.1f s into the training)',
			$alg, $el, $t - $t_start));
	isnt($h->result(0), 0, "$alg: cancelled training fails");
	like($err, qr/ERROR:\s+57014: canceling statement due to user request/,
		"$alg: SQLSTATE 57014 (query_canceled)");
	cmp_ok($el, '<', 5.0, "$alg: ends within 5 s of the cancel");
	is($node->safe_psql('postgres', "SELECT count(*) FROM ml.models WHERE name = 'm_$alg'"),
		'0', "$alg: nothing registered");
	ok(defined wait_for("SELECT count(*) = 0 FROM pg_stat_activity "
			  . "WHERE backend_type = 'parallel worker' OR application_name = '$app'", 10),
		"$alg: backend idle and no parallel worker left");
}

# A training still works afterwards.
is($node->safe_psql('postgres',
		"SELECT version FROM ml.train_model('after', 'snapshot:ds', 'y', "
		  . "features => ARRAY['x1','x3'])"),
	'1', 'a training after the cancels registers its model');

my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|PANIC|TRAP:/, 'server log: no crashed process');
unlike($log, qr/leak/i, 'server log: no leak warnings');
$node->stop;

diag(sprintf('cancel latency %-20s %.3f s', $_, $latency{$_})) for sort keys %latency;
done_testing();
