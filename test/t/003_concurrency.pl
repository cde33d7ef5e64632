# Concurrency: 16 sessions train one model name at once (consecutive
# versions, no deadlock), 8 sessions promote different versions at once (one
# production version, one audit event per call), and a snapshot taken while 4
# sessions keep updating the source is one MVCC-consistent view with a hash
# that verifies.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('concurrency');
$node->init;
$node->append_conf('postgresql.conf',
	"max_worker_processes = 16\nmax_parallel_workers = 8\nmax_connections = 40\n"
	  . "ml.progress = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_mlops');
$node->safe_psql('postgres', q{
	CREATE TABLE small AS SELECT g AS id, sin(g) AS a, cos(g) AS b, 2 * sin(g) - cos(g) + 0.1 * sin(7 * g) AS y
	FROM generate_series(1, 20000) g;
	SELECT ml.snapshot('SELECT a, b, y FROM small', name => 's');
});

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

# Run each SQL text in its own session, all released at the same moment: each
# session first waits for a shared advisory lock that this session holds.
sub run_together
{
	my ($label, @sqls) = @_;
	my $gate = $node->background_psql('postgres');
	$gate->query_safe('SELECT pg_advisory_lock(4242)');
	my @runs;
	for my $i (0 .. $#sqls)
	{
		my %r = (in => '', out => '', err => '');
		$r{h} = IPC::Run::start(
			[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1',
			  '-d', $node->connstr('postgres') . " application_name=${label}_$i",
			  '-c', 'SELECT pg_advisory_lock_shared(4242)', '-c', $sqls[$i] ],
			'<', \$r{in}, '>', \$r{out}, '2>', \$r{err});
		push @runs, \%r;
	}
	my $n = scalar @sqls;
	ok(wait_for("SELECT count(*) = $n FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted", 60),
		"$label: $n sessions waiting at the gate");
	$gate->query_safe('SELECT pg_advisory_unlock(4242)');
	$gate->quit;
	for my $r (@runs)
	{
		$r->{h}->finish;
		$r->{rc} = $r->{h}->result(0);
		# the last line: the gate's empty output comes first
		$r->{out} = (split /\n/, $r->{out})[-1] // '';
	}
	return @runs;
}

# --- 16 concurrent trainings of one name -----------------------------------
my @train = run_together('train', ("SELECT version FROM ml.train_model('m', 'snapshot:s', 'y')") x 16);
is(scalar(grep { $_->{rc} == 0 } @train), 16, '16 concurrent trainings all succeed')
  or diag(join("\n", map { $_->{err} } @train));
is(join(',', sort { $a <=> $b } map { $_->{out} } @train), join(',', 1 .. 16),
	'the trainings got versions 1..16, each once');
is($node->safe_psql('postgres', "SELECT string_agg(version::text, ',' ORDER BY version) FROM ml.models WHERE name = 'm'"),
	join(',', 1 .. 16), 'ml.models has versions 1..16 of m');
is($node->safe_psql('postgres', "SELECT count(DISTINCT model_hash) FROM ml.models WHERE name = 'm'"),
	'1', 'all 16 models are identical');
is($node->safe_psql('postgres', "SELECT count(*) FROM ml.model_events WHERE action = 'train'"),
	'16', 'one train event per training');

# --- 8 concurrent promotions of different versions -------------------------
my @prom = run_together('promote', map { "SELECT version FROM ml.promote('m', $_)" } 1 .. 8);
is(scalar(grep { $_->{rc} == 0 } @prom), 8, '8 concurrent promotions all succeed')
  or diag(join("\n", map { $_->{err} } @prom));
is($node->safe_psql('postgres', "SELECT count(*) FROM ml.models WHERE name = 'm' AND stage = 'production'"),
	'1', 'exactly one production version');
is($node->safe_psql('postgres', "SELECT count(*) FROM ml.model_events WHERE action = 'promote'"),
	'8', 'one promote event per call');
is($node->safe_psql('postgres', q{
		SELECT m.stage FROM ml.model_events e JOIN ml.models m ON m.id = e.model_id
		WHERE e.action = 'promote' ORDER BY e.id DESC LIMIT 1}),
	'production', 'the last promotion in the audit log is the production version');
is($node->safe_psql('postgres', "SELECT string_agg(DISTINCT stage, ',') FROM ml.models WHERE name = 'm' AND version BETWEEN 1 AND 8 AND stage <> 'production'"),
	'archived', 'the other promoted versions were archived');
is($node->safe_psql('postgres', "SELECT count(*) FROM ml.models WHERE name = 'm' AND version > 8 AND stage <> 'none'"),
	'0', 'versions never promoted keep stage none');

# --- snapshot while 4 sessions update the source ---------------------------
# Every updating transaction moves one unit between two accounts, so every
# consistent view has sum(v) = 100 * 300000.
$node->safe_psql('postgres', q{
	CREATE TABLE acct (id int PRIMARY KEY, v bigint NOT NULL);
	INSERT INTO acct SELECT g, 100 FROM generate_series(1, 300000) g;
	VACUUM ANALYZE acct;
});
my $total = 100 * 300000;
my @upd;
for my $i (1 .. 4)
{
	my %r = (in => '', out => '', err => '');
	$r{h} = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1',
		  '-d', $node->connstr('postgres') . " application_name=updater",
		  '-c', qq{DO \$\$
DECLARE a int; b int; n int := 0; stop timestamptz := clock_timestamp() + interval '6 s';
BEGIN
  WHILE clock_timestamp() < stop LOOP
    a := 1 + floor(random() * 300000)::int;
    b := 1 + floor(random() * 300000)::int;
    CONTINUE WHEN a = b;
    -- lock in id order: no deadlock between updaters
    UPDATE acct SET v = v + CASE WHEN id = a THEN -1 ELSE 1 END WHERE id = least(a, b);
    UPDATE acct SET v = v + CASE WHEN id = a THEN -1 ELSE 1 END WHERE id = greatest(a, b);
    COMMIT;
    n := n + 1;
  END LOOP;
  RAISE NOTICE 'transactions: %', n;
END \$\$} ],
		'<', \$r{in}, '>', \$r{out}, '2>', \$r{err});
	push @upd, \%r;
}
ok(wait_for("SELECT count(*) = 4 FROM pg_stat_activity WHERE application_name = 'updater' AND state = 'active'", 30),
	'4 updaters running');
usleep(1_000_000);
my $snap = $node->safe_psql('postgres',
	"SELECT relation || '|' || content_hash FROM ml.snapshot('acct', name => 'acct_live')");
my $during = $node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'updater' AND state = 'active'");
is($during, '4', 'the updaters were still running when the snapshot finished');
my ($rel, $hash) = split /\|/, $snap;
my @ucount;
for my $r (@upd)
{
	$r->{h}->finish;
	is($r->{h}->result(0), 0, 'updater finished without error') or diag($r->{err});
	push @ucount, ($r->{err} =~ /transactions: (\d+)/)[0] // 0;
}
diag('updater transactions: ' . join(', ', @ucount));
cmp_ok($ucount[0], '>', 100, 'the updaters committed many transactions');
is($node->safe_psql('postgres', 'SELECT sum(v) FROM acct'), $total, 'the invariant holds in the table');
isnt($node->safe_psql('postgres', "SELECT ml.content_hash(x) FROM (SELECT id, v FROM acct) x"), $hash,
	'the table changed after the snapshot');
is($node->safe_psql('postgres', "SELECT sum(v) || '|' || count(*) FROM $rel"), "$total|300000",
	'the snapshot is one consistent view: sum(v) equals the invariant');
is($node->safe_psql('postgres', "SELECT ml.content_hash(x) FROM (SELECT id, v FROM $rel) x"), $hash,
	'content hash recomputed from the snapshot relation equals the recorded one');
is($node->safe_psql('postgres', "SELECT intact AND split_intact FROM ml.verify_snapshot('acct_live')"), 't',
	'ml.verify_snapshot: intact');
isnt($node->safe_psql('postgres', "SELECT count(*) FROM $rel WHERE v <> 100"), '0',
	'the snapshot saw committed updates');

my $log = slurp_file($node->logfile);
unlike($log, qr/deadlock detected/, 'no deadlock in the server log');
unlike($log, qr/terminated by signal|PANIC|TRAP:/, 'no crashed process');
$node->stop;
done_testing();
