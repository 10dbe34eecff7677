package dev.lagscaler.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.feed.v1.MetricUpdate;
import org.junit.jupiter.api.Test;

/** The store fed by several sharded replicas at once: each source's values, removals and resyncs are its own. */
class MetricStoreTest {
    private static final MetricStore.Key KEY = new MetricStore.Key("shop", "orders", "s0-kafka-orders");

    private static MetricUpdate value(long milli, long at) {
        return MetricUpdate.newBuilder().setNamespace("shop").setScaledObject("orders").setMetricName("s0-kafka-orders")
                .setValueMilli(milli).setTimestampMillis(at).setStaleAfterMillis(60_000).build();
    }

    private static void synced(MetricStore store, String source) {
        store.resyncStarting(source);
        store.apply(source, MetricUpdate.newBuilder().setSnapshotDone(true).build());
    }

    @Test
    void anObjectMovingBetweenShardsKeepsTheNewOwnersValue() {
        MetricStore store = new MetricStore();
        store.addSource("a");
        store.addSource("b");
        synced(store, "a");
        assertFalse(store.synced(), "b has not sent its snapshot: an unknown metric may be b's");
        synced(store, "b");
        store.apply("a", value(5_000, 1_000));
        // b takes the object, then a says it gave it away: b's value stays.
        store.apply("b", value(7_000, 2_000));
        store.apply("a", MetricUpdate.newBuilder(value(0, 0)).setRemoved(true).build());
        assertEquals(7_000, store.get(KEY).valueMilli());
        // A late update from a, older than b's, does not win either.
        store.apply("a", value(1_000, 1_500));
        assertEquals(7_000, store.get(KEY).valueMilli());
        // a's resync without the object leaves b's value alone.
        synced(store, "a");
        assertEquals(7_000, store.get(KEY).valueMilli());
    }

    @Test
    void aLostShardMakesOnlyItsOwnValuesUnservable() {
        MetricStore store = new MetricStore();
        synced(store, "a");
        synced(store, "b");
        store.apply("a", value(5_000, 1_000));
        store.apply("b", MetricUpdate.newBuilder(value(3_000, 1_000)).setScaledObject("payments").build());
        store.connectionLost("a");
        assertFalse(store.servable(store.slot(KEY)), "a's value waits for a's snapshot or the new owner's value");
        assertTrue(store.servable(store.slot(new MetricStore.Key("shop", "payments", "s0-kafka-orders"))));
        assertFalse(store.synced());
        store.apply("b", value(6_000, 3_000));
        assertTrue(store.servable(store.slot(KEY)), "the new owner's value is served");
        store.apply("b", MetricUpdate.newBuilder(value(0, 0)).setRemoved(true).build());
        assertNull(store.get(KEY));
    }
}
