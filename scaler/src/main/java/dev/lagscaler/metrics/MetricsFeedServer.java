package dev.lagscaler.metrics;

import dev.lagscaler.feed.FeedTls;
import dev.lagscaler.feed.v1.MetricUpdate;
import dev.lagscaler.feed.v1.MetricsFeedGrpcService;
import dev.lagscaler.feed.v1.SubscribeRequest;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.streams.WriteStream;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.GrpcWriteStream;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerResponse;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scaler's side of the metrics feed: a vertx-grpc server streaming metric values to subscribed adapters. Each
 * subscriber first gets every current value (a full resync), then live updates. Values are kept per metric, so
 * a reconnecting adapter always gets the latest state. Only while this process leads: a standby ends each
 * subscription at once, without a snapshot, so the adapter stays unready and tries again (behind a Service, until
 * it reaches the leader); losing the lead ends every open stream.
 *
 * <p>Bounded: while a subscriber's stream is backed up (its write queue full: HTTP/2 flow control says it reads
 * slower than values change), it is not written to; the metrics that changed meanwhile are remembered by key, and
 * their latest values sent once it drains, so a slow reader costs at most one entry per metric and still ends with
 * every latest value. One that stays backed up for {@code stuckAfter} is dropped then (a timer, not the next
 * publish: a quiet feed drops it all the same) and its stream reset: it may
 * subscribe again for a fresh snapshot. At most {@code maxSubscribers} subscriptions are open at once; one more is
 * refused with RESOURCE_EXHAUSTED.
 */
public final class MetricsFeedServer implements MetricsSink, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsFeedServer.class);

    /** One subscription; its backlog fields are touched on its own context only. */
    private static final class Subscriber {
        final String name;
        final Context context;
        final WriteStream<MetricUpdate> stream;
        /** Keys of the metrics that changed while the stream was backed up. */
        final java.util.Set<String> behind = new java.util.LinkedHashSet<>();
        /** When the stream was first seen backed up (System.nanoTime), 0 while it keeps up. */
        long backedUpSince;

        Subscriber(String name, Context context, WriteStream<MetricUpdate> stream) {
            this.name = name;
            this.context = context;
            this.stream = stream;
        }
    }

    private final Vertx vertx;
    private final boolean ownsVertx;
    private final Map<String, MetricUpdate> current = new ConcurrentHashMap<>();
    private final Map<Subscriber, Boolean> subscribers = new ConcurrentHashMap<>();
    private final int maxSubscribers;
    private final java.time.Duration stuckAfter;
    private final java.util.concurrent.atomic.AtomicLong dropped = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong refusedPeers = new java.util.concurrent.atomic.AtomicLong();
    private HttpServer server;
    private volatile boolean leading;

    /** Subscriptions open at once: the adapter's replicas, with room for their reconnects. */
    public static final int DEFAULT_MAX_SUBSCRIBERS = 16;
    /** How long a subscriber may stay backed up before it is dropped. */
    public static final java.time.Duration DEFAULT_STUCK_AFTER = java.time.Duration.ofSeconds(30);

    private MetricsFeedServer(Vertx vertx, boolean ownsVertx, int maxSubscribers, java.time.Duration stuckAfter) {
        this.vertx = vertx;
        this.ownsVertx = ownsVertx;
        this.maxSubscribers = maxSubscribers;
        this.stuckAfter = stuckAfter;
    }

    /** Starts the feed on {@code host:port} (port 0 picks a free one). */
    public static MetricsFeedServer start(String host, int port) {
        return start(host, port, DEFAULT_MAX_SUBSCRIBERS, DEFAULT_STUCK_AFTER);
    }

    /**
     * As {@link #start(String, int)}, with at most {@code maxSubscribers} subscriptions open at once, each dropped
     * once backed up for {@code stuckAfter}.
     */
    public static MetricsFeedServer start(String host, int port, int maxSubscribers, java.time.Duration stuckAfter) {
        return start(host, port, maxSubscribers, stuckAfter, null);
    }

    /**
     * Starts the feed with mutual TLS ({@code tls}; null: plaintext, for local runs only): a client is served only
     * once its certificate, checked against the feed's CA, names the adapter ({@link FeedTls#peer()}); others get a
     * 403 before any value. The files are reloaded when they change.
     */
    public static MetricsFeedServer start(String host, int port, int maxSubscribers, java.time.Duration stuckAfter,
                                          FeedTls tls) {
        MetricsFeedServer feed = new MetricsFeedServer(Vertx.vertx(), true, maxSubscribers, stuckAfter);
        GrpcServer grpc = GrpcServer.server(feed.vertx);
        grpc.addService(new MetricsFeedGrpcService() {
            @Override
            protected void subscribe(SubscribeRequest request, WriteStream<MetricUpdate> response) {
                feed.subscribe(request, response);
            }
        });
        HttpServerOptions options = new HttpServerOptions().setHost(host).setPort(port);
        feed.server = feed.vertx.createHttpServer(tls == null ? options : tls.serverOptions(options))
                .requestHandler(tls == null ? grpc : request -> {
                    if (tls.admits(request)) {
                        grpc.handle(request);
                    } else {
                        feed.refusedPeers.incrementAndGet();
                        LOG.atWarn().addKeyValue("remote", String.valueOf(request.remoteAddress()))
                                .log("feed refused: the client certificate does not name the adapter");
                        request.response().setStatusCode(403).end();
                    }
                }).listen().await();
        if (tls != null) {
            tls.reloadEvery(feed.vertx, feed.server, result -> LOG.atInfo().addKeyValue("result", result)
                    .log("feed TLS files changed"));
        }
        LOG.atInfo().addKeyValue("address", host + ":" + feed.server.actualPort()).addKeyValue("tls", tls != null)
                .log("metrics feed started");
        return feed;
    }

    /** Connections refused because their client certificate did not name the adapter. */
    public long refusedPeers() {
        return refusedPeers.get();
    }

    public int port() {
        return server.actualPort();
    }

    private void subscribe(SubscribeRequest request, WriteStream<MetricUpdate> response) {
        if (!leading) {
            LOG.atInfo().addKeyValue("subscriber", request.getSubscriber()).log("feed refused: not the leader");
            response.end();
            return;
        }
        if (subscribers.size() >= maxSubscribers) {
            LOG.atWarn().addKeyValue("subscriber", request.getSubscriber()).addKeyValue("open", subscribers.size())
                    .log("feed refused: too many subscribers");
            if (response instanceof GrpcServerResponse<?, ?> grpc) {
                grpc.status(GrpcStatus.RESOURCE_EXHAUSTED).statusMessage("too many feed subscribers");
            }
            response.end();
            return;
        }
        Subscriber subscriber = new Subscriber(request.getSubscriber(), Vertx.currentContext(), response);
        current.values().forEach(response::write);
        response.write(MetricUpdate.newBuilder().setSnapshotDone(true).build());
        subscribers.put(subscriber, true);
        response.exceptionHandler(e -> subscribers.remove(subscriber));
        LOG.atInfo().addKeyValue("subscriber", request.getSubscriber()).addKeyValue("values", current.size()).log("feed subscribed");
    }

    @Override
    public void publish(MetricUpdate update) {
        String key = key(update.getNamespace(), update.getScaledObject(), update.getMetricName());
        current.put(key, update);
        fanOut(key, update);
    }

    @Override
    public void removeObject(String namespace, String scaledObject) {
        String prefix = namespace + "/" + scaledObject + "/";
        current.keySet().removeIf(k -> {
            if (!k.startsWith(prefix)) {
                return false;
            }
            fanOut(k, removal(namespace, scaledObject, k.substring(prefix.length())));
            return true;
        });
    }

    @Override
    public void leading(boolean leading) {
        this.leading = leading;
        if (!leading) {
            current.clear();
            for (Subscriber s : subscribers.keySet()) {
                subscribers.remove(s);
                s.context.runOnContext(v -> {
                    try {
                        s.stream.end();
                    } catch (IllegalStateException e) {
                        // already closed by the other side
                    }
                });
            }
        }
    }

    private void fanOut(String key, MetricUpdate update) {
        for (Subscriber s : subscribers.keySet()) {
            s.context.runOnContext(v -> {
                if (!subscribers.containsKey(s)) {
                    return;
                }
                if (!s.behind.isEmpty() || s.stream.writeQueueFull()) {
                    fallBehind(s, key);
                    return;
                }
                try {
                    s.stream.write(update);
                } catch (IllegalStateException e) {
                    subscribers.remove(s);
                }
            });
        }
    }

    /** The stream is backed up: remember the key (its latest value goes out on drain). */
    private void fallBehind(Subscriber s, String key) {
        if (s.backedUpSince == 0) {
            s.stream.drainHandler(v -> catchUp(s));
            backedUp(s);
        }
        s.behind.add(key);
    }

    /**
     * Starts the subscriber's stuck clock: unless its stream drains within {@code stuckAfter}, it is dropped then,
     * whether or not anything is published meanwhile (on its own context, as every touch of its backlog).
     */
    private void backedUp(Subscriber s) {
        long since = System.nanoTime();
        s.backedUpSince = since;
        vertx.setTimer(Math.max(1, stuckAfter.toMillis()), t -> s.context.runOnContext(v -> {
            if (s.backedUpSince == since) {
                drop(s);
            }
        }));
    }

    /** The stream drained: send the latest value of each metric that changed meanwhile, while it keeps up. */
    private void catchUp(Subscriber s) {
        var keys = s.behind.iterator();
        while (keys.hasNext() && !s.stream.writeQueueFull()) {
            String key = keys.next();
            keys.remove();
            MetricUpdate latest = current.get(key);
            String[] parts = key.split("/", 3);
            s.stream.write(latest != null ? latest : removal(parts[0], parts[1], parts[2]));
        }
        if (s.behind.isEmpty()) {
            s.backedUpSince = 0;
        } else {
            backedUp(s); // it read some: a new bound for the rest
        }
    }

    private static MetricUpdate removal(String namespace, String scaledObject, String metric) {
        return MetricUpdate.newBuilder().setNamespace(namespace).setScaledObject(scaledObject).setMetricName(metric)
                .setRemoved(true).build();
    }

    /** A subscriber that stopped reading: forgotten, and its stream reset so its backlog is freed. */
    private void drop(Subscriber s) {
        if (subscribers.remove(s) == null) {
            return;
        }
        dropped.incrementAndGet();
        LOG.atWarn().addKeyValue("subscriber", s.name).addKeyValue("behind", s.behind.size())
                .addKeyValue("stuck_s", stuckAfter.toSeconds()).log("feed subscriber dropped: it stopped reading");
        if (s.stream instanceof GrpcWriteStream<?> grpc) {
            grpc.cancel();
        } else {
            s.stream.end();
        }
    }

    /** Subscriptions open now. */
    public int subscriberCount() {
        return subscribers.size();
    }

    /** Subscribers dropped so far because they did not read. */
    public long droppedSubscribers() {
        return dropped.get();
    }

    private static String key(String namespace, String scaledObject, String metric) {
        return namespace + "/" + scaledObject + "/" + metric;
    }

    @Override
    public void close() {
        if (server != null) {
            server.close().await();
        }
        if (ownsVertx) {
            vertx.close().await();
        }
    }
}
