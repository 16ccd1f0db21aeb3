"""Starts the pinned moto server (infra/requirements.txt) with one repair to its DynamoDB
TransactWriteItems, which the whole system leans on.

moto 5.2.5 deep-copies every table a transaction touches (once per action) before it applies
anything, and on failure puts those copies back in place of the live tables. That makes every
transaction cost O(table size) while it holds the interpreter lock (the local stack slows down as
data grows: see BENCHMARKS.md), answers some concurrent transactions with a bare HTTP 500, and a
rollback silently undoes any other request's write to the same tables in between.

It also makes moto's single-item writes atomic, as DynamoDB's are: moto checks a condition
expression and then writes, with nothing holding other requests off in between, so two
concurrent PutItems conditional on `attribute_not_exists` both succeeded now and then (measured:
2 to 9 keys in 1,000 with 16 writers per key). Every claim of an idempotency key relies on it.

The transaction replacement keeps DynamoDB's semantics: under one lock it checks every action first (item
uniqueness, condition expressions) and applies nothing if one fails; then it applies the actions,
remembering only the items they touch, and restores just those if applying one fails.

DynamoDB Streams (the Lambda stream event sources of the runner read them): moto records a change
when it applies it, so a transaction's records are held back until it commits (a cancelled or
rolled-back one leaves none, not even for its undo writes), and every record is written under
the same lock as its change (see above), so the stream's order is the commit order and no two
changes get the same sequence number (moto numbers records by the stream's length, unlocked).
An UpdateItem that creates its item is recorded once (moto records its key first, then the
update), and a write that changes nothing is not recorded, as in DynamoDB. moto keeps
every shard iterator it hands out, and each GetRecords hands out one: only the newest are kept,
so that a poller reading a stream four times a second does not grow the emulator without end.
The runner starts this file instead of `moto_server` (same arguments)."""

import copy
import os
import sys
import threading

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard
from moto.dynamodbstreams.models import DynamoDBStreamsBackend

_LOCK = threading.RLock()
# The stream records of the transaction this thread is applying, until it commits.
_PENDING = threading.local()
_record_change = StreamShard.add


def _record(shard, old, new):
    # As DynamoDB: a write that changes nothing writes no stream record.
    if old is not None and new is not None and old.to_json() == new.to_json():
        return
    _record_change(shard, old, new)


def _add_stream_record(self, old, new):
    pending = getattr(_PENDING, "records", None)
    if pending is not None:
        pending.append((self, old, new))
        return
    with _LOCK:
        _record(self, old, new)


def _update_item(update):
    """moto's UpdateItem of a missing item puts its key first (one INSERT record) and then
    records the update (a second INSERT): keep only the update's own record."""

    def update_item(self, *args, **kwargs):
        with _LOCK:
            outer = getattr(_PENDING, "records", None)
            _PENDING.records = []
            try:
                item = update(self, *args, **kwargs)
                recorded = _PENDING.records
            finally:
                _PENDING.records = outer
            if recorded:
                _add_stream_record(*recorded[-1])
            return item

    return update_item


def _key_of(backend, op_type, op):
    if op_type == "Put":
        attrs = op["Item"]
        table = backend.get_table(op["TableName"])
        key = {table.hash_key_attr: attrs[table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = attrs[table.range_key_attr]
        return key
    return op["Key"]


def transact_write_items(self, transact_items):
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with _LOCK:
        actions = []
        seen = set()
        errors = []
        # Phase 1: check everything, change nothing.
        for item in transact_items:
            if len(item) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(item.items()))
            original_item = None
            try:
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")
                table_name = op["TableName"]
                key = _key_of(self, op_type, op)
                unique = (str(table_name), str(dict(sorted(key.items()))))
                if unique in seen:
                    raise MultipleTransactionsException()
                seen.add(unique)
                current = self.get_item(table_name, key)
                condition = op.get("ConditionExpression")
                if condition is not None:
                    check = get_filter_expression(
                        condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                    )
                    if not check.expr(current):
                        if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                            original_item = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original_item)
                actions.append((op_type, op, table_name, key))
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                raise
            except ConditionalCheckFailed as e:
                errors.append(("ConditionalCheckFailed", str(e.message), original_item))
            except Exception as e:  # noqa: BLE001 - reported per action, as moto does
                errors.append((type(e).__name__, str(e), original_item))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)

        # Phase 2: apply, remembering only the touched items (and holding back their stream records).
        before = []
        _PENDING.records = []
        try:
            for op_type, op, table_name, key in actions:
                if op_type == "ConditionCheck":
                    continue
                current = self.get_item(table_name, key)
                before.append((table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
                # As moto itself calls them (the conditions hold: nothing changed under the lock).
                expressions = dict(
                    condition_expression=op.get("ConditionExpression"),
                    expression_attribute_names=op.get("ExpressionAttributeNames"),
                    expression_attribute_values=op.get("ExpressionAttributeValues"),
                )
                if op_type == "Put":
                    self.put_item(table_name, op["Item"], **expressions)
                elif op_type == "Delete":
                    self.delete_item(table_name, key, **expressions)
                else:
                    self.update_item(table_name, key, update_expression=op["UpdateExpression"], **expressions)
        except Exception:
            for table_name, key, attrs in reversed(before):
                if attrs is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attrs)
            raise
        else:
            for shard, old, new in _PENDING.records:
                _record(shard, old, new)
        finally:
            _PENDING.records = None


# AWS's iterators expire after 15 minutes; a poller reads a shard about four times a second.
_KEPT_ITERATORS = int(os.environ.get("DROPSHIP_MOTO_KEPT_ITERATORS", "10000"))


def _forgetting_old_iterators(read):
    def read_stream(self, *args, **kwargs):
        result = read(self, *args, **kwargs)
        with _LOCK:
            while len(self.shard_iterators) > _KEPT_ITERATORS:
                del self.shard_iterators[next(iter(self.shard_iterators))]
        return result

    return read_stream


DynamoDBBackend.transact_write_items = transact_write_items
DynamoDBStreamsBackend.get_records = _forgetting_old_iterators(DynamoDBStreamsBackend.get_records)
StreamShard.add = _add_stream_record
DynamoDBBackend.update_item = _update_item(DynamoDBBackend.update_item)


def _atomic(write):
    """One write under the transactions' lock: its condition and its change are one step."""

    def locked(self, *args, **kwargs):
        with _LOCK:
            return write(self, *args, **kwargs)

    return locked


# BatchWriteItem goes through put_item and delete_item; the transaction above re-enters the lock.
for _name in ("put_item", "update_item", "delete_item"):
    setattr(DynamoDBBackend, _name, _atomic(getattr(DynamoDBBackend, _name)))

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
