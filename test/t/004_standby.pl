# A hot standby reads the registry and predicts; writes say why they cannot run there.
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
CREATE TABLE homes AS SELECT i AS id, (i % 50)::float8 AS area, (i % 5)::float8 AS rooms,
       3 * (i % 50) + 7 * (i % 5) + sin(i) AS price FROM generate_series(1, 2000) i;
SELECT ml.snapshot('homes', name => 'homes_v1');
SELECT ml.train_model('homes', 'snapshot:homes_v1', 'price', features => '{area,rooms}');
SELECT ml.promote('homes', 1);
});
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'standby is in recovery');

# Reading and scoring work on the standby, with the same answers as the primary.
my $q = q{SELECT ml.predict('homes', h)::text FROM homes h WHERE id = 17};
is($standby->safe_psql('postgres', $q), $primary->safe_psql('postgres', $q), 'predict on the standby equals the primary');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM ml.explain('homes')}), '3', 'explain works on the standby');
is($standby->safe_psql('postgres', q{SELECT version || ':' || stage FROM ml.registry}), '1:production', 'registry readable');
like($standby->safe_psql('postgres', q{SELECT ml.export_model('homes', 'json')}), qr/pg_mlops-model/, 'export works on the standby');

# Every write says why it cannot run on a standby, with SQLSTATE 25006.
my %writes = (
	'train a model'      => q{SELECT ml.train_model('homes', 'snapshot:homes_v1', 'price')},
	'take a snapshot'    => q{SELECT ml.snapshot('homes')},
	'promote a model'    => q{SELECT ml.promote('homes', 1)},
	'roll back a model'  => q{SELECT ml.rollback('homes')},
	'score into a table' => q{SELECT ml.score('homes', 'homes', 'scores', 'id')},
	'check drift'        => q{SELECT * FROM ml.check_drift('homes', 'homes')},
	'reproduce a model'  => q{SELECT * FROM ml.reproduce('homes@1')},
);
for my $action (sort keys %writes)
{
	my ($ret, $out, $err) = $standby->psql('postgres', "\\set VERBOSITY verbose\n" . $writes{$action});
	isnt($ret, 0, "$action fails on the standby");
	like($err, qr/ERROR:  25006: cannot \Q$action\E on a hot standby/, "$action: clear message and SQLSTATE");
	like($err, qr/HINT:  Run this on the primary/, "$action: hint");
}

# Nothing changed on the primary either, and it still trains.
is($primary->safe_psql('postgres', 'SELECT count(*) FROM ml.models'), '1', 'no model registered anywhere');
$primary->safe_psql('postgres', q{SET ml.progress = off; SELECT ml.train_model('homes', 'snapshot:homes_v1', 'price')});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT count(*) FROM ml.models'), '2', 'a training on the primary reaches the standby');

$standby->stop;
$primary->stop;
done_testing();
