/*
 * modelcache.c: resolving model references ('name', 'name@3',
 * 'name@production', an id) to registered versions, and the decoded models
 * behind them, cached per backend.
 *
 * Two maps.  The reference map remembers what each reference resolved to
 * (the version's id, hash, digest and the identity of its stored bytes, and
 * who may use its name).  The model map holds decoded models by id; an entry
 * serves a reference only while the registered hash, digest and bytes are
 * the ones it was verified against, so promoting or rolling back another
 * version never re-reads or re-hashes a model.
 *
 * Invalidation travels as a relcache invalidation of ml.models, which the
 * statement triggers on ml.models, ml.model_owners and ml.model_grants send
 * (ml._registry_changed).  It is part of the writing transaction's commit
 * record, so it reaches every backend of the primary and, through WAL
 * replay, of every hot standby.  Role changes arrive as syscache
 * invalidations of pg_authid and pg_auth_members.
 *
 * A statement resolves each reference once: its first resolution (a new
 * transaction, command or snapshot, as the active snapshot tells) takes in
 * pending invalidation messages, so a promotion committed before the
 * statement, or made earlier in the same transaction, is seen, even in a
 * transaction that already holds every lock it needs.  A resolution read
 * from the registry is kept for later statements only when it cannot miss a
 * change: no invalidation arrived after the snapshot it was read with was
 * taken (one that did may be for a commit the snapshot does not see).
 * Parallel queries resolve from the registry in the leader and in each
 * worker, with the leader's snapshot, so they agree on the version.
 *
 * Call sites keep pointers into a decoded model only while
 * ml_model_cache_generation holds (any drop bumps it); ml_model_by_id pins
 * its model for the transaction, as drift aggregates hold it across rows.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "pg_mlops.h"

/* ml.model_cache_size, in kB */
int			ml_model_cache_size_kb = 64 * 1024;

/* Bumped whenever a decoded model is dropped, so call sites find theirs again. */
uint64		ml_model_cache_generation = 0;

static HTAB *model_cache = NULL;
static Size model_cache_bytes = 0;
static uint64 use_clock = 0;

#define REF_KEY_LEN 96
#define REF_MAP_MAX 10000
#define REGISTRY_TRIGGER "models_changed"

typedef struct RefEntry
{
	char		key[REF_KEY_LEN];	/* 'i' + id, or 't' + the reference */
	uint64		stmt;			/* the statement it last served */
	bool		exact;			/* read with that statement's snapshot */
	bool		cacheable;		/* may serve later statements ... */
	uint64		generation;		/* ... while no invalidation came */
	Oid			priv_role;		/* the last role found to hold 'use' */
	uint64		priv_generation;
	int64		id;
	char		hash[80];
	char		digest[80];
	uint64		bytes_id;
	char		name[64];
	char		label[80];
	bool		has_owner;
	NameData	owner;
	int			ngrantees;
	NameData   *grantees;		/* in ref_cxt */
} RefEntry;

static HTAB *ref_map = NULL;
static MemoryContext ref_cxt = NULL;

static uint64 registry_generation = 1;
static uint64 privilege_generation = 1;
static Oid	models_relid = InvalidOid;

/* the statement being resolved in */
static bool stamp_valid = false;
static MLStamp stamp;
static uint64 stmt_seq = 0;
/* registry_generation when the active snapshot was taken (about) */
static uint64 snapshot_generation = 0;

/* A registry change (or a reset of every cache): every resolution is stale. */
static void
registry_invalidated(Datum arg, Oid relid)
{
	/* before the registry was first looked up, any relation may be it */
	if (relid != InvalidOid && OidIsValid(models_relid) && relid != models_relid)
		return;
	registry_generation++;
	privilege_generation++;
}

/* A role changed (membership, superuser, name or existence). */
static void
roles_invalidated(Datum arg, int cacheid, uint32 hashvalue)
{
	privilege_generation++;
}

void
ml_model_cache_init(void)
{
	DefineCustomIntVariable("ml.model_cache_size",
							"Memory each backend may keep decoded models in.",
							"The least recently used models are dropped beyond it; the model "
							"loaded last, and those a running drift check holds, stay even past it.",
							&ml_model_cache_size_kb, 64 * 1024, 0, MAX_KILOBYTES,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);
	CacheRegisterRelcacheCallback(registry_invalidated, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, roles_invalidated, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, roles_invalidated, (Datum) 0);
}

/* ml.models, looked up again each time the registry is read. */
static Oid
registry_relid(void)
{
	Oid			ns = get_namespace_oid("ml", true);

	models_relid = OidIsValid(ns) ? get_relname_relid("models", ns) : InvalidOid;
	if (!OidIsValid(models_relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the model registry ml.models does not exist"),
				 errhint("CREATE EXTENSION pg_mlops makes it.")));
	return models_relid;
}

/*
 * The running statement: the transaction, command and active snapshot.  Two
 * snapshots with the same xmin, xmax and counts of running transactions see
 * the same commits (a transaction that ends leaves the list or raises xmax).
 */
bool
ml_stamp_now(MLStamp *s)
{
	Snapshot	snap;

	if (!ActiveSnapshotSet())
		return false;
	snap = GetActiveSnapshot();
	s->lxid = MyProc->lxid;
	s->cid = snap->curcid;
	s->xmin = snap->xmin;
	s->xmax = snap->xmax;
	s->xcnt = snap->xcnt;
	s->subxcnt = snap->subxcnt;
	return true;
}

/*
 * A new statement takes in the invalidations that arrived since the last
 * one.  Those that arrive after its snapshot was taken (here, or while it
 * reads the registry) may be for commits the snapshot does not see: what it
 * reads then serves this statement only.
 */
static void
begin_statement(void)
{
	MLStamp		now;

	if (ml_stamp_now(&now))
	{
		if (stamp_valid && ml_stamp_equal(&now, &stamp))
			return;
		/* a new snapshot (not only a new command) was taken before this */
		if (!stamp_valid || now.lxid != stamp.lxid || now.xmin != stamp.xmin ||
			now.xmax != stamp.xmax || now.xcnt != stamp.xcnt || now.subxcnt != stamp.subxcnt)
			snapshot_generation = registry_generation;
		stamp = now;
		stamp_valid = true;
	}
	else
		stamp_valid = false;
	stmt_seq++;
	AcceptInvalidationMessages();
}

/* The identity of stored bytes: their TOAST value, or a hash of them inline. */
static uint64
bytes_identity(Datum d)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);

	if (VARATT_IS_EXTERNAL_ONDISK(v))
	{
		struct varatt_external ext;

		VARATT_EXTERNAL_GET_POINTER(ext, v);
		return ((uint64) 1 << 63) | ((uint64) ext.va_toastrelid << 32) | ext.va_valueid;
	}
	return hash_bytes_extended((const unsigned char *) v, VARSIZE_ANY(v), 0) & ~((uint64) 1 << 63);
}

/*
 * Does role hold 'use' on the entry's model name?  The rules of
 * ml._has_model_privilege: superusers, members of the owner role, and
 * grantees of use or manage (or public).
 */
static bool
has_use_privilege(Oid role, bool has_owner, const char *owner, int ngrantees, const NameData *grantees)
{
	int			i;

	if (superuser_arg(role))
		return true;
	if (has_owner)
	{
		Oid			o = get_role_oid(owner, true);

		if (OidIsValid(o) && is_member_of_role(role, o))
			return true;
	}
	for (i = 0; i < ngrantees; i++)
	{
		Oid			g;

		if (strcmp(NameStr(grantees[i]), "public") == 0)
			return true;
		g = get_role_oid(NameStr(grantees[i]), true);
		if (OidIsValid(g) && is_member_of_role(role, g))
			return true;
	}
	return false;
}

static bool
entry_privilege(RefEntry *e, Oid role)
{
	if (e->priv_role == role && e->priv_generation == privilege_generation)
		return true;
	if (!has_use_privilege(role, e->has_owner, NameStr(e->owner), e->ngrantees, e->grantees))
		return false;
	e->priv_role = role;
	e->priv_generation = privilege_generation;
	return true;
}

/* May this resolution serve the running statement? */
static bool
entry_current(RefEntry *e)
{
	if (e->stmt == stmt_seq && stamp_valid)
		return !IsInParallelMode() || e->exact;
	return e->cacheable && e->generation == registry_generation && stamp_valid &&
		!IsInParallelMode();
}

/* Is the statement trigger that reports registry changes in place? */
static bool
registry_reports_changes(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TriggerDesc *td = rel->trigdesc;
	bool		found = false;
	int			i;

	for (i = 0; td != NULL && i < td->numtriggers; i++)
		if (strcmp(td->triggers[i].tgname, REGISTRY_TRIGGER) == 0 &&
			td->triggers[i].tgenabled == TRIGGER_FIRES_ALWAYS)
			found = true;
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Resolve a reference from the registry with the active snapshot, raising
 * the errors of ml._resolve_model; fills *e (its key untouched).
 */
static void
resolve_from_registry(bool by_id, Datum ref, Oid role, RefEntry *e)
{
	mlc_model_ref r;
	mlc_error	err;
	Oid			relid = registry_relid();
	bool		has_digest = get_attnum(relid, "model_digest") != InvalidAttrNumber;
	bool		reports = has_digest && registry_reports_changes(relid);
	char		query[1024];
	Oid			argtypes[1];
	Datum		args[1];
	int			best = -1,
				best_version = 0;
	bool		best_prod = false;
	uint64		i,
				nrows;
	bool		privileged = false,
				deleted = false;
	char	   *deleted_at = NULL,
			   *deleted_by = NULL;
	MemoryContext outer = CurrentMemoryContext;

	if (!by_id)
	{
		text	   *t = DatumGetTextPP(ref);

		if (mlc_model_ref_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &r, &err) != MLC_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("%s", err.msg),
					 errhint("Refer to a model as 'name', 'name@3' (a version) or 'name@production' (a stage).")));
	}
	snprintf(query, sizeof(query),
			 "SELECT m.id, m.name, m.version, m.stage, m.deleted_at::pg_catalog.text, m.deleted_by, "
			 "m.model_hash, %s, m.model, "
			 "(SELECT o.owner FROM ml.model_owners o WHERE o.name OPERATOR(pg_catalog.=) m.name) "
			 "FROM ml.models m WHERE %s",
			 has_digest ? "m.model_digest" : "NULL::pg_catalog.text",
			 by_id ? "m.id OPERATOR(pg_catalog.=) $1" : "m.name OPERATOR(pg_catalog.=) $1");
	argtypes[0] = by_id ? INT8OID : TEXTOID;
	args[0] = by_id ? ref : CStringGetTextDatum(r.name);

	SPI_connect();
	if (SPI_execute_with_args(query, 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "model lookup failed");
	nrows = SPI_processed;
	for (i = 0; i < nrows; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int			version = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		char	   *stage = SPI_getvalue(tup, desc, 4);
		bool		gone = (SPI_getbinval(tup, desc, 5, &isnull), !isnull);
		bool		prod = strcmp(stage, "production") == 0;

		if (by_id)
			best = i;
		else if (r.kind == MLC_REF_VERSION)
		{
			if (version == r.version)
				best = i;
		}
		else if (r.kind == MLC_REF_STAGE)
		{
			if (strcmp(stage, r.stage) == 0 && (best < 0 || version > best_version))
				best = i, best_version = version;
		}
		else if (!gone &&
				 (best < 0 || (prod && !best_prod) || (prod == best_prod && version > best_version)))
			best = i, best_version = version, best_prod = prod;
	}
	if (nrows > 0)
	{
		HeapTuple	tup = SPI_tuptable->vals[best >= 0 ? best : 0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *name = SPI_getvalue(tup, desc, 2);
		char	   *owner = SPI_getvalue(tup, desc, 10);
		Oid			gtypes[1] = {TEXTOID};
		Datum		gargs[1] = {CStringGetTextDatum(name)};
		int			n;

		/* who may use the name: its owner and grantees */
		if (SPI_execute_with_args("SELECT g.grantee FROM ml.model_grants g WHERE g.name OPERATOR(pg_catalog.=) $1",
								  1, gtypes, gargs, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "model grants lookup failed");
		if (e->grantees)
			pfree(e->grantees);
		e->grantees = NULL;
		e->ngrantees = n = (int) SPI_processed;
		if (n > 0)
		{
			int			g;

			e->grantees = MemoryContextAllocZero(ref_cxt, sizeof(NameData) * n);
			for (g = 0; g < n; g++)
				namestrcpy(&e->grantees[g], SPI_getvalue(SPI_tuptable->vals[g], SPI_tuptable->tupdesc, 1));
		}
		e->has_owner = owner != NULL;
		namestrcpy(&e->owner, owner ? owner : "");
		privileged = has_use_privilege(role, e->has_owner, NameStr(e->owner), e->ngrantees, e->grantees);
		if (best >= 0 && privileged)
		{
			bool		isnull;
			Datum		model;
			char	   *s;

			e->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
			strlcpy(e->name, name, sizeof(e->name));
			snprintf(e->label, sizeof(e->label), "%s@%s", name, SPI_getvalue(tup, desc, 3));
			s = SPI_getvalue(tup, desc, 5);
			deleted = s != NULL;
			if (deleted)
			{
				deleted_at = MemoryContextStrdup(outer, s);
				s = SPI_getvalue(tup, desc, 6);
				deleted_by = MemoryContextStrdup(outer, s ? s : "");
			}
			s = SPI_getvalue(tup, desc, 7);
			strlcpy(e->hash, s ? s : "", sizeof(e->hash));
			s = SPI_getvalue(tup, desc, 8);
			strlcpy(e->digest, s ? s : "", sizeof(e->digest));
			model = SPI_getbinval(tup, desc, 9, &isnull);
			e->bytes_id = isnull ? 0 : bytes_identity(model);
		}
	}
	SPI_finish();

	if (best >= 0 && privileged && deleted)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model %s was deleted", e->label),
				 errdetail("Deleted by %s at %s; its record stays in ml.models and ml.lineage.",
						   deleted_by, deleted_at)));
	if (best < 0 || !privileged)
	{
		if (by_id)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("model with id %lld does not exist", (long long) DatumGetInt64(ref)),
					 errhint("See SELECT id, name, version FROM ml.registry.")));
		if (nrows == 0 || !privileged)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("model \"%s\" does not exist", r.name),
					 errhint("See SELECT name, version, stage FROM ml.registry.")));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" has no version matching \"%s\"", r.name,
						text_to_cstring(DatumGetTextPP(ref))),
				 errhint("See SELECT version, stage FROM ml.registry WHERE name = %s.",
						 quote_literal_cstr(r.name))));
	}

	/* read after the query, which may have taken in invalidations itself */
	e->stmt = stmt_seq;
	e->exact = true;
	e->generation = registry_generation;
	e->cacheable = reports && stamp_valid && !IsInParallelMode() &&
		registry_generation == snapshot_generation;
	e->priv_role = role;
	e->priv_generation = privilege_generation;
}

static void
drop_model(MLCachedModel *entry)
{
	int64		id = entry->id;

	model_cache_bytes -= entry->bytes;
	MemoryContextDelete(entry->cxt);
	hash_search(model_cache, &id, HASH_REMOVE, NULL);
	ml_model_cache_generation++;
}

/* Drop the least recently used models beyond ml.model_cache_size. */
static void
evict_over_cap(MLCachedModel *keep)
{
	Size		cap = (Size) ml_model_cache_size_kb * 1024;

	while (model_cache_bytes > cap)
	{
		HASH_SEQ_STATUS seq;
		MLCachedModel *entry,
				   *victim = NULL;

		hash_seq_init(&seq, model_cache);
		while ((entry = hash_seq_search(&seq)) != NULL)
		{
			if (entry == keep || entry->pinned_lxid == MyProc->lxid)
				continue;
			if (victim == NULL || entry->last_used < victim->last_used)
				victim = entry;
		}
		if (victim == NULL)
			break;
		drop_model(victim);
	}
}

/* The decoded model a resolution names: cached, or read, checked and decoded. */
static MLCachedModel *
model_for(const RefEntry *e)
{
	MLCachedModel *entry;
	bool		found;
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(e->id)};
	bool		isnull;
	Datum		blob_datum;
	bytea	   *blob;
	MemoryContext cxt,
				old;
	mlc_model	model;
	mlc_error	err;
	mlc_status	st;
	bool		has_digest;
	uint64		bytes_id;
	char	   *s;
	char		hash[80],
				digest[80];

	if (model_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(MLCachedModel);
		ctl.hcxt = TopMemoryContext;
		model_cache = hash_create("pg_mlops models", 64, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	entry = hash_search(model_cache, &e->id, HASH_FIND, &found);
	if (found && entry->bytes_id == e->bytes_id && strcmp(entry->hash, e->hash) == 0 &&
		strcmp(entry->digest, e->digest) == 0)
	{
		entry->last_used = ++use_clock;
		if (model_cache_bytes > (Size) ml_model_cache_size_kb * 1024)
			evict_over_cap(entry);	/* the cap was lowered */
		return entry;
	}
	if (found)
		drop_model(entry);

	/*
	 * The bytes must be the registered ones, and this row's (not copied from
	 * another); a catalog of 0.1.0 not yet updated has no digest.
	 */
	has_digest = get_attnum(registry_relid(), "model_digest") != InvalidAttrNumber;
	SPI_connect();
	if (SPI_execute_with_args(has_digest
							  ? "SELECT model, pg_catalog.encode(pg_catalog.sha256(model), 'hex') OPERATOR(pg_catalog.=) model_hash "
							  "AND pg_catalog.encode(pg_catalog.sha256(pg_catalog.int8send(id) OPERATOR(pg_catalog.||) model), 'hex') "
							  "OPERATOR(pg_catalog.=) model_digest, model_hash, model_digest "
							  "FROM ml.models WHERE id OPERATOR(pg_catalog.=) $1"
							  : "SELECT model, pg_catalog.encode(pg_catalog.sha256(model), 'hex') OPERATOR(pg_catalog.=) model_hash, "
							  "model_hash, NULL::pg_catalog.text "
							  "FROM ml.models WHERE id OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model with id %lld does not exist", (long long) e->id)));
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model %s is corrupted: its bytes do not match the registered hash", e->label),
				 errdetail("model_hash is the hash of the bytes; model_digest binds them to this row's id."),
				 errhint("Retrain the model or restore ml.models from a backup.")));
	s = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	strlcpy(hash, s ? s : "", sizeof(hash));
	s = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
	strlcpy(digest, s ? s : "", sizeof(digest));
	blob_datum = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	bytes_id = isnull ? 0 : bytes_identity(blob_datum);
	blob = isnull ? NULL : DatumGetByteaPP(blob_datum);
	cxt = AllocSetContextCreate(TopMemoryContext, "pg_mlops cached model",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	memset(&model, 0, sizeof(model));
	st = isnull ? MLC_ECORRUPT
		: mlc_model_decode((const uint8_t *) VARDATA_ANY(blob), VARSIZE_ANY_EXHDR(blob), &model, &err);
	MemoryContextSwitchTo(old);
	SPI_finish();
	if (st != MLC_OK)
	{
		MemoryContextDelete(cxt);
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model %s is corrupted", e->label),
				 errdetail_internal("The decoder reported: %s.", isnull ? "no model bytes" : err.msg),
				 errhint("The stored bytes were altered; retrain the model or restore ml.models from a backup.")));
	}
	entry = hash_search(model_cache, &e->id, HASH_ENTER, NULL);
	/* what was verified: the row as this statement reads it */
	strlcpy(entry->hash, hash, sizeof(entry->hash));
	strlcpy(entry->digest, digest, sizeof(entry->digest));
	entry->bytes_id = bytes_id;
	strlcpy(entry->label, e->label, sizeof(entry->label));
	entry->cxt = cxt;
	entry->model = model;
	entry->bytes = MemoryContextMemAllocated(cxt, true);
	entry->last_used = ++use_clock;
	entry->pinned_lxid = InvalidLocalTransactionId;
	model_cache_bytes += entry->bytes;
	evict_over_cap(entry);
	return entry;
}

static void
ref_map_reset(void)
{
	HASHCTL		ctl;

	if (ref_map != NULL)
		hash_destroy(ref_map);
	if (ref_cxt == NULL)
		ref_cxt = AllocSetContextCreate(TopMemoryContext, "pg_mlops model references",
										ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(ref_cxt);
	ctl.keysize = REF_KEY_LEN;
	ctl.entrysize = sizeof(RefEntry);
	ctl.hcxt = ref_cxt;
	ref_map = hash_create("pg_mlops model references", 64, &ctl,
						  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/*
 * ml_resolve_model resolves a reference (text, or a bigint id when by_id)
 * for the running statement and returns its decoded model: one version per
 * reference and statement.  The model stays valid until the next call that
 * may load another one (see ml_model_cache_generation).
 */
MLCachedModel *
ml_resolve_model(bool by_id, Datum ref)
{
	char		key[REF_KEY_LEN];
	bool		keyed = true;
	RefEntry   *volatile e = NULL;
	RefEntry	scratch;
	Oid			role = ml_caller_id();

	begin_statement();
	if (ref_map == NULL)
		ref_map_reset();
	if (by_id)
		snprintf(key, sizeof(key), "i%lld", (long long) DatumGetInt64(ref));
	else
	{
		text	   *t = DatumGetTextPP(ref);
		int			len = VARSIZE_ANY_EXHDR(t);

		keyed = len + 2 <= REF_KEY_LEN;
		if (keyed)
		{
			key[0] = 't';
			memcpy(key + 1, VARDATA_ANY(t), len);
			key[len + 1] = '\0';
		}
	}
	if (keyed)
		e = hash_search(ref_map, key, HASH_FIND, NULL);
	if (e != NULL && entry_current(e) && entry_privilege(e, role))
		e->stmt = stmt_seq;
	else
	{
		if (e == NULL)
		{
			if (keyed && hash_get_num_entries(ref_map) >= REF_MAP_MAX)
				ref_map_reset();
			if (keyed)
			{
				bool		found;

				e = hash_search(ref_map, key, HASH_ENTER, &found);
				memset(((char *) e) + REF_KEY_LEN, 0, sizeof(RefEntry) - REF_KEY_LEN);
			}
			else
			{
				memset(&scratch, 0, sizeof(scratch));
				e = &scratch;
			}
		}
		PG_TRY();
		{
			resolve_from_registry(by_id, ref, role, e);
		}
		PG_CATCH();
		{
			/* a failed resolution serves no one */
			if (e != &scratch)
			{
				if (e->grantees)
					pfree(e->grantees);
				hash_search(ref_map, key, HASH_REMOVE, NULL);
			}
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	{
		MLCachedModel *m = model_for(e);

		if (e == &scratch && e->grantees)
			pfree(e->grantees);
		return m;
	}
}

/*
 * ml_model_by_id returns the decoded model with this id, from the cache or
 * loaded and checked; kept until the end of the transaction.
 */
const mlc_model *
ml_model_by_id(int64 id, const char **label)
{
	MLCachedModel *entry = ml_resolve_model(true, Int64GetDatum(id));

	entry->pinned_lxid = MyProc->lxid;
	if (label)
		*label = entry->label;
	return &entry->model;
}

/*
 * ml._registry_changed(): statement trigger on ml.models, ml.model_owners and
 * ml.model_grants; every backend, here and on standbys, resolves references
 * again from the next statement on.
 */
PG_FUNCTION_INFO_V1(ml_registry_changed);
Datum
ml_registry_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			relid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ml._registry_changed() is a trigger function")));
	relid = get_relname_relid("models", RelationGetNamespace(trigdata->tg_relation));
	if (OidIsValid(relid))
		CacheInvalidateRelcacheByRelid(relid);
	return PointerGetDatum(NULL);
}

/* ml._model_cache(): the decoded models this backend keeps. */
PG_FUNCTION_INFO_V1(ml_model_cache);
Datum
ml_model_cache(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS seq;
	MLCachedModel *entry;

	InitMaterializedSRF(fcinfo, 0);
	if (model_cache == NULL)
		return (Datum) 0;
	hash_seq_init(&seq, model_cache);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = Int64GetDatum(entry->id);
		values[1] = CStringGetTextDatum(entry->label);
		values[2] = Int64GetDatum((int64) entry->bytes);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
