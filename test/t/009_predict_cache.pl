# Each backend caches what model references resolve to (src/pg/modelcache.c).
# A promotion, a revoke or a role change committed in one session reaches the
# next statement of every other session, inside an open READ COMMITTED
# transaction too, and a promotion on the primary reaches a hot standby.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', q{
CREATE EXTENSION pg_mlops;
SET ml.progress = off;
CREATE TABLE d1 AS SELECT i AS id, (i % 50)::float8 AS x, 2 * (i % 50) + sin(i) AS y FROM generate_series(1, 500) i;
CREATE TABLE d2 AS SELECT id, x, 100 - 3 * x + sin(id) AS y FROM d1;
SELECT ml.train_model('m', 'd1', 'y', features => '{x}');
SELECT ml.train_model('m', 'd2', 'y', features => '{x}');
SELECT ml.promote('m', 1);
CREATE ROLE alice LOGIN;
CREATE ROLE team;
SELECT ml.grant_model('m', 'alice', 'use');
});
my $predict = q{SELECT ml.predict('m', ARRAY[10]::float8[])};
my $v1 = $primary->safe_psql('postgres', q{SELECT ml.predict('m@1', ARRAY[10]::float8[])});
my $v2 = $primary->safe_psql('postgres', q{SELECT ml.predict('m@2', ARRAY[10]::float8[])});
isnt($v1, $v2, 'the two versions predict differently');

$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

# --- another session's promotion, at the next statement ---------------------
my $b = $primary->background_psql('postgres');
is($b->query_safe($predict), $v1, 'session B predicts with production version 1');
is($b->query_safe($predict), $v1, 'and again, from its cache');
$primary->safe_psql('postgres', q{SELECT 1 FROM ml.promote('m', 2)});
is($b->query_safe($predict), $v2, 'the next statement of session B sees the promotion to version 2');

# Inside an open READ COMMITTED transaction that already holds its locks.
$b->query_safe('BEGIN ISOLATION LEVEL READ COMMITTED');
is($b->query_safe($predict), $v2, 'in a transaction: version 2');
$primary->safe_psql('postgres', q{SELECT 1 FROM ml.rollback('m')});
is($b->query_safe($predict), $v1, 'the next statement of the same open transaction sees the rollback to version 1');
is($b->query_safe(q{SELECT ml.predict('m', ARRAY[10]::float8[]) = ml.predict('m@1', ARRAY[10]::float8[])}), 't',
	'one version for every call site of a statement');
$primary->safe_psql('postgres', q{SELECT 1 FROM ml.promote('m', 2)});
is($b->query_safe($predict), $v2, 'and the promotion after it');
$b->query_safe('COMMIT');

# A REPEATABLE READ transaction keeps the version its snapshot sees.
$b->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
is($b->query_safe($predict), $v2, 'repeatable read: version 2');
$primary->safe_psql('postgres', q{SELECT 1 FROM ml.rollback('m')});
is($b->query_safe($predict), $v2, 'repeatable read: still version 2 after another session rolled back');
$b->query_safe('COMMIT');
is($b->query_safe($predict), $v1, 'the next transaction sees version 1');

# --- revokes ------------------------------------------------------------------
my $c = $primary->background_psql('postgres', on_error_stop => 0);
$c->query_safe('SET ROLE alice');
is($c->query_safe($predict), $v1, 'alice predicts with her grant');
is($c->query_safe($predict), $v1, 'and again, from her cache');
$primary->safe_psql('postgres', q{SELECT ml.revoke_model('m', 'alice', 'use')});
my ($out, $ret) = $c->query($predict);
ok($ret != 0 && $c->{stderr} =~ /model "m" does not exist/, 'the next statement after the revoke is refused')
  or diag("out: $out, stderr: $c->{stderr}");
$c->{stderr} = '';

# A grant to a role she is a member of, then the membership taken away.
$primary->safe_psql('postgres', q{SELECT ml.grant_model('m', 'team', 'use'); GRANT team TO alice;});
is($c->query_safe($predict), $v1, 'alice predicts through role team');
is($c->query_safe(q{SELECT ml.predict('m@2', ARRAY[10]::float8[])}), $v2, 'also a fixed version');
$primary->safe_psql('postgres', q{REVOKE team FROM alice});
($out, $ret) = $c->query(q{SELECT ml.predict('m@2', ARRAY[10]::float8[])});
ok($ret != 0 && $c->{stderr} =~ /model "m" does not exist/, 'the next statement after the membership was revoked is refused')
  or diag("out: $out, stderr: $c->{stderr}");
$c->{stderr} = '';
$c->quit;

# --- a hot standby ------------------------------------------------------------
$primary->wait_for_catchup($standby);
my $s = $standby->background_psql('postgres');
is($s->query_safe($predict), $v1, 'standby session predicts with version 1');
is($s->query_safe($predict), $v1, 'and again, from its cache');
$primary->safe_psql('postgres', q{SELECT 1 FROM ml.promote('m', 2)});
$primary->wait_for_catchup($standby);
is($s->query_safe($predict), $v2, 'the standby session sees the promotion made on the primary');
$s->query_safe('BEGIN ISOLATION LEVEL READ COMMITTED');
is($s->query_safe($predict), $v2, 'standby, in a transaction: version 2');
$primary->safe_psql('postgres', q{SELECT 1 FROM ml.rollback('m')});
$primary->wait_for_catchup($standby);
is($s->query_safe($predict), $v1, 'standby, the same open transaction sees the rollback');
$s->query_safe('COMMIT');
$s->quit;
$b->quit;

$standby->stop;
$primary->stop;
done_testing();
