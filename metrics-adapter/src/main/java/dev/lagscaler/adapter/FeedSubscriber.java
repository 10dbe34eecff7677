package dev.lagscaler.adapter;

import dev.lagscaler.feed.FeedTls;
import dev.lagscaler.feed.v1.MetricsFeedGrpcClient;
import io.vertx.core.http.HttpClientAgent;
import dev.lagscaler.feed.v1.SubscribeRequest;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the {@link MetricStore} fed from the scaler's gRPC stream. When the stream ends or fails it reconnects with
 * a growing backoff (0.5 s to 2 s) and takes a full snapshot again, so either side may restart and leadership may
 * move; the store is unready from the loss until the next snapshot. Given several operator addresses, each attempt
 * tries the next one, so it finds whichever leads (a standby ends the stream at once).
 */
public final class FeedSubscriber implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FeedSubscriber.class);
    /** Short: behind a Service an attempt may reach a standby, which ends the stream at once; the next may not. */
    private static final long MAX_BACKOFF_MS = 2_000;
    /** Between the addresses of one round: the next operator is tried at once. */
    private static final long NEXT_ADDRESS_MS = 50;

    private final Vertx vertx;
    private final List<MetricsFeedGrpcClient> clients = new ArrayList<>();
    private int next;
    /** Attempts since the last snapshot: a full round over the addresses waits the backoff, the rest do not. */
    private int attempts;
    private final GrpcClient grpc;
    private final MetricStore store;
    private final String name;
    private volatile boolean closed;
    private long backoffMs = 500;
    private final Runnable onRetry;
    /** The store's name for what this subscription sends: {@link MetricStore#LEADER}, or the one sharded replica's. */
    private final String source;

    public FeedSubscriber(Vertx vertx, String host, int port, MetricStore store, String name) {
        this(vertx, List.of(SocketAddress.inetSocketAddress(port, host)), store, name);
    }

    public FeedSubscriber(Vertx vertx, List<SocketAddress> feeds, MetricStore store, String name) {
        this(vertx, feeds, store, name, () -> { });
    }

    /** {@code onRetry} runs each time the stream is lost or a subscription fails, before the next try. */
    public FeedSubscriber(Vertx vertx, List<SocketAddress> feeds, MetricStore store, String name, Runnable onRetry) {
        this(vertx, feeds, store, name, onRetry, null);
    }

    /**
     * Over mutual TLS with {@code tls} (null: plaintext, for local runs only): this side's certificate, the feed's CA,
     * and each operator's certificate checked against the host name dialled. The files are reloaded when they change.
     */
    public FeedSubscriber(Vertx vertx, List<SocketAddress> feeds, MetricStore store, String name, Runnable onRetry,
                          FeedTls tls) {
        this(vertx, feeds, store, name, onRetry, tls, MetricStore.LEADER);
    }

    /** The same, its values kept in {@code store} as {@code source}'s (one subscription per sharded replica). */
    public FeedSubscriber(Vertx vertx, List<SocketAddress> feeds, MetricStore store, String name, Runnable onRetry,
                          FeedTls tls, String source) {
        this.onRetry = onRetry;
        this.source = source;
        store.addSource(source);
        if (feeds.isEmpty()) {
            throw new IllegalArgumentException("no feed address");
        }
        this.vertx = vertx;
        if (tls == null) {
            this.grpc = GrpcClient.client(vertx);
        } else {
            HttpClientAgent http = vertx.createHttpClient(tls.clientOptions());
            this.grpc = GrpcClient.client(vertx, http);
            tls.reloadEvery(vertx, http, result -> LOG.atInfo().addKeyValue("result", result).log("feed TLS files changed"));
        }
        feeds.forEach(address -> clients.add(MetricsFeedGrpcClient.create(grpc, address)));
        this.store = store;
        this.name = name;
    }

    public void start() {
        vertx.runOnContext(v -> connect());
    }

    private void connect() {
        if (closed) {
            return;
        }
        MetricsFeedGrpcClient client = clients.get(next);
        next = (next + 1) % clients.size();
        client.subscribe(SubscribeRequest.newBuilder().setSubscriber(name).build()).onComplete((stream, failure) -> {
            if (failure != null) {
                retry("subscribe failed: " + failure.getMessage());
                return;
            }
            store.resyncStarting(source);
            java.util.concurrent.atomic.AtomicBoolean over = new java.util.concurrent.atomic.AtomicBoolean();
            stream.handler(update -> {
                backoffMs = 500;
                attempts = 0;
                store.apply(source, update);
            });
            stream.exceptionHandler(e -> {
                if (over.compareAndSet(false, true)) {
                    retry("stream failed: " + e.getMessage());
                }
            });
            stream.endHandler(v -> {
                if (over.compareAndSet(false, true)) {
                    retry("stream ended");
                }
            });
            LOG.atInfo().addKeyValue("subscriber", name).log("feed connected");
        });
    }

    private void retry(String why) {
        store.connectionLost(source);
        onRetry.run();
        if (closed) {
            return;
        }
        attempts++;
        if (attempts % clients.size() != 0) {
            vertx.setTimer(NEXT_ADDRESS_MS, id -> connect());
            return;
        }
        LOG.atWarn().addKeyValue("reason", why).addKeyValue("backoff_ms", backoffMs).log("feed reconnecting");
        vertx.setTimer(backoffMs, id -> connect());
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
    }

    @Override
    public void close() {
        closed = true;
        grpc.close();
    }
}
