package dev.lagscaler.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.feed.v1.MetricUpdate;
import dev.lagscaler.feed.v1.MetricsFeedGrpcClient;
import dev.lagscaler.feed.v1.SubscribeRequest;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.FaultFigures;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The metric feed over real gRPC (HTTP/2 with its flow control): a subscriber that never reads is dropped once it has
 * been backed up for the stuck bound, while one that reads through bursts larger than its window ends with every
 * latest value; subscriptions past the cap are refused. Before, writes ignored a full queue: a stuck subscriber's
 * backlog grew the leader's heap without bound.
 */
class MetricsFeedServerTest {
    /** A subscription that counts what it read; {@code reads == false} pauses it from the start (it never reads). */
    private static final class Subscription {
        final AtomicLong updates = new AtomicLong();
        final Map<String, Long> latest = new java.util.concurrent.ConcurrentHashMap<>();
        final AtomicBoolean ended = new AtomicBoolean();
        final AtomicReference<String> status = new AtomicReference<>();

        Subscription(Vertx vertx, MetricsFeedGrpcClient client, String name, boolean reads) {
            vertx.runOnContext(v -> client.subscribe(SubscribeRequest.newBuilder().setSubscriber(name).build())
                    .onComplete((stream, failure) -> {
                        if (failure != null) {
                            status.set(failure.getMessage());
                            ended.set(true);
                            return;
                        }
                        if (!reads) {
                            stream.pause();
                        }
                        stream.handler(u -> {
                            updates.incrementAndGet();
                            if (!u.getSnapshotDone()) {
                                latest.put(u.getScaledObject(), u.getValueMilli());
                            }
                        });
                        stream.endHandler(e -> ended.set(true));
                        stream.exceptionHandler(e -> {
                            status.set(e.toString());
                            ended.set(true);
                        });
                    }));
        }
    }

    private static MetricUpdate update(int i) {
        return MetricUpdate.newBuilder().setNamespace("ns").setScaledObject("so-" + (i % 500)).setMetricName("s0-kafka-t")
                .setValueMilli(i).setError("x".repeat(200)).build();
    }

    @Test
    void aSubscriberThatNeverReadsIsDroppedAndOneThatReadsKeepsUp() throws Exception {
        Vertx vertx = Vertx.vertx();
        // Two connections: HTTP/2's window is per connection too, and the stuck stream must not hold the reader's.
        GrpcClient grpc = GrpcClient.client(vertx);
        GrpcClient stuckGrpc = GrpcClient.client(vertx);
        Map<String, Object> figures = new LinkedHashMap<>();
        try (MetricsFeedServer feed = MetricsFeedServer.start("127.0.0.1", 0, 3, Duration.ofSeconds(2))) {
            feed.leading(true);
            MetricsFeedGrpcClient client = MetricsFeedGrpcClient.create(grpc, SocketAddress.inetSocketAddress(feed.port(), "127.0.0.1"));
            Subscription stuck = new Subscription(vertx, MetricsFeedGrpcClient.create(stuckGrpc,
                    SocketAddress.inetSocketAddress(feed.port(), "127.0.0.1")), "stuck", false);
            Subscription reader = new Subscription(vertx, client, "reader", true);
            ChildProcess.await("both subscribed", Duration.ofSeconds(10), Duration.ofMillis(10), () -> feed.subscriberCount() == 2);

            // Two bursts of 5,000 updates over 500 metrics (about 1.1 MB each, far past a stream's 64 KiB window),
            // then nothing: the stuck subscriber is dropped at its 2 s bound though nothing more is published.
            int published = 0;
            for (int burst = 0; burst < 2; burst++) {
                for (int i = 0; i < 5_000; i++) {
                    feed.publish(update(published++));
                }
                long seen = reader.updates.get();
                ChildProcess.await("the reader reads on", Duration.ofSeconds(30), Duration.ofMillis(5),
                        () -> reader.updates.get() > seen);
            }
            long quietFrom = System.nanoTime();
            ChildProcess.await("the stuck subscriber dropped on a quiet feed", Duration.ofSeconds(20), Duration.ofMillis(10),
                    () -> feed.droppedSubscribers() == 1);
            figures.put("dropped_after_last_publish_ms", (System.nanoTime() - quietFrom) / 1_000_000);
            // A last value per metric: the reader ends with each of them, however far behind it fell in between.
            Map<String, Long> last = new LinkedHashMap<>();
            for (int i = 0; i < 500; i++) {
                MetricUpdate u = update(published++);
                feed.publish(u);
                last.put(u.getScaledObject(), u.getValueMilli());
            }
            int total = published;
            ChildProcess.await("the reader holds every latest value", Duration.ofSeconds(30), Duration.ofMillis(10),
                    () -> reader.latest.equals(last));
            assertEquals(1, feed.droppedSubscribers(), "the stuck subscriber is dropped");
            assertEquals(1, feed.subscriberCount(), "the reader stays");
            assertEquals(0, stuck.updates.get(), "the stuck subscriber read nothing");

            // The cap (3 here): the reader and two more are admitted, the next is refused.
            List<Subscription> more = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                more.add(new Subscription(vertx, client, "more-" + i, true));
            }
            ChildProcess.await("three open", Duration.ofSeconds(10), Duration.ofMillis(10), () -> feed.subscriberCount() == 3);
            Subscription refused = new Subscription(vertx, client, "one-too-many", true);
            ChildProcess.await("the fourth refused", Duration.ofSeconds(10), Duration.ofMillis(10), refused.ended::get);
            assertEquals(3, feed.subscriberCount());
            figures.put("updates_published", total);
            figures.put("reader_updates_received", reader.updates.get());
            figures.put("reader_latest_values_correct", reader.latest.equals(last));
            figures.put("dropped_subscribers", feed.droppedSubscribers());
            figures.put("refused_over_cap", refused.ended.get());
        } finally {
            grpc.close();
            stuckGrpc.close();
            vertx.close().await();
        }
        FaultFigures.record("feed-subscriber-that-never-reads", figures);
    }
}
