package dev.lagscaler.controller;

import dev.lagscaler.feed.v1.MetricUpdate;
import dev.lagscaler.feed.v1.MetricsFeedGrpcClient;
import dev.lagscaler.feed.v1.SubscribeRequest;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One subscription to an operator's metrics feed over real gRPC, recording what it got: whether a snapshot arrived,
 * whether the stream ended, and the latest value per metric. The adapter's own subscriber lives in the adapter
 * module, which the operator's tests do not depend on.
 */
final class FeedProbe implements AutoCloseable {
    private final Vertx vertx = Vertx.vertx();
    private final GrpcClient grpc = GrpcClient.client(vertx);
    private final MetricsFeedGrpcClient client;
    private final Map<String, MetricUpdate> values = new ConcurrentHashMap<>();
    private volatile boolean snapshot;
    private volatile boolean ended;

    FeedProbe(int port) {
        client = MetricsFeedGrpcClient.create(grpc, SocketAddress.inetSocketAddress(port, "127.0.0.1"));
        vertx.runOnContext(v -> client.subscribe(SubscribeRequest.newBuilder().setSubscriber("probe").build())
                .onComplete((stream, failure) -> {
                    if (failure != null) {
                        ended = true;
                        return;
                    }
                    stream.handler(u -> {
                        if (u.getSnapshotDone()) {
                            snapshot = true;
                        } else {
                            values.put(u.getMetricName(), u);
                        }
                    });
                    stream.endHandler(e -> ended = true);
                    stream.exceptionHandler(e -> ended = true);
                }));
    }

    boolean snapshot() {
        return snapshot;
    }

    boolean ended() {
        return ended;
    }

    /** The metric's latest value in milli-units, or -1 when none (or only an error) arrived. */
    long valueMilli(String metric) {
        MetricUpdate u = values.get(metric);
        return u == null || !u.getError().isEmpty() ? -1 : u.getValueMilli();
    }

    @Override
    public void close() {
        grpc.close();
        vertx.close().await();
    }
}
