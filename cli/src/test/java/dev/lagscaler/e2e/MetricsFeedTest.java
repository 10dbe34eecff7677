package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.lagscaler.adapter.FeedSubscriber;
import dev.lagscaler.adapter.MetricStore;
import dev.lagscaler.metrics.MetricsFeedServer;
import dev.lagscaler.feed.v1.MetricUpdate;
import dev.lagscaler.testing.ChildProcess;
import io.vertx.core.Vertx;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The gRPC feed across a real HTTP/2 connection: snapshot, live updates, and both sides restarting. */
@Tag("network")
class MetricsFeedTest {
    static MetricUpdate value(String metric, long milli) {
        return MetricUpdate.newBuilder().setNamespace("ns").setScaledObject("so").setMetricName(metric)
                .setValueMilli(milli).setTimestampMillis(System.currentTimeMillis()).build();
    }

    static long milli(MetricStore store, String metric) {
        MetricStore.Value v = store.get("ns", "so", metric);
        return v == null ? -1 : v.valueMilli();
    }

    @Test
    void adapterResyncsAcrossScalerAndAdapterRestarts() throws Exception {
        Vertx vertx = Vertx.vertx();
        MetricStore store = new MetricStore();
        MetricsFeedServer feed = MetricsFeedServer.start("127.0.0.1", 0);
        feed.leading(true);
        int port = feed.port();
        feed.publish(value("s0-kafka-a", 1000));
        FeedSubscriber subscriber = new FeedSubscriber(vertx, "127.0.0.1", port, store, "test");
        try {
            subscriber.start();
            ChildProcess.await("the snapshot", Duration.ofSeconds(10), Duration.ofMillis(20), () -> store.synced() && milli(store, "s0-kafka-a") == 1000);
            feed.publish(value("s0-kafka-a", 2000));
            ChildProcess.await("a live update", Duration.ofSeconds(10), Duration.ofMillis(20), () -> milli(store, "s0-kafka-a") == 2000);

            // The scaler restarts on the same address and knows only another metric now.
            feed.close();
            feed = MetricsFeedServer.start("127.0.0.1", port);
            feed.leading(true);
            feed.publish(value("s1-kafka-b", 3000));
            ChildProcess.await("the resync after the scaler restart", Duration.ofSeconds(30), Duration.ofMillis(50),
                    () -> milli(store, "s1-kafka-b") == 3000 && store.get("ns", "so", "s0-kafka-a") == null);

            // An adapter that starts later gets the full state at once.
            MetricStore fresh = new MetricStore();
            try (FeedSubscriber late = new FeedSubscriber(vertx, "127.0.0.1", port, fresh, "late")) {
                late.start();
                ChildProcess.await("the late snapshot", Duration.ofSeconds(10), Duration.ofMillis(20), () -> fresh.synced());
                assertEquals(3000, milli(fresh, "s1-kafka-b"));
                feed.removeObject("ns", "so");
                ChildProcess.await("removal", Duration.ofSeconds(10), Duration.ofMillis(20), () -> fresh.size() == 0);
                assertNull(fresh.get("ns", "so", "s1-kafka-b"));
            }
        } finally {
            subscriber.close();
            feed.close();
            vertx.close().await();
        }
    }

    /** Before: a standby's feed served an empty snapshot, so its adapter was ready and every HPA got 404. */
    @Test
    void onlyTheLeadersFeedMakesAnAdapterReady() throws Exception {
        Vertx vertx = Vertx.vertx();
        MetricStore store = new MetricStore();
        MetricsFeedServer feed = MetricsFeedServer.start("127.0.0.1", 0);
        feed.publish(value("s0-kafka-a", 1000));
        try (FeedSubscriber subscriber = new FeedSubscriber(vertx, "127.0.0.1", feed.port(), store, "standby-test")) {
            subscriber.start();
            // A standby ends every subscription without a snapshot: several attempts, never ready.
            long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (System.nanoTime() < deadline) {
                assertFalse(store.synced(), "ready on a standby's feed");
                Thread.sleep(50);
            }
            feed.leading(true);
            feed.publish(value("s0-kafka-a", 2000));
            ChildProcess.await("ready once the process leads", Duration.ofSeconds(15), Duration.ofMillis(20),
                    () -> store.synced() && milli(store, "s0-kafka-a") == 2000);
            feed.leading(false);
            ChildProcess.await("unready once it no longer leads", Duration.ofSeconds(10), Duration.ofMillis(20),
                    () -> !store.synced());
        } finally {
            feed.close();
            vertx.close().await();
        }
    }
}
