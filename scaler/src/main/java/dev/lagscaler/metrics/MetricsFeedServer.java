package dev.lagscaler.metrics;

import dev.lagscaler.feed.v1.MetricUpdate;
import dev.lagscaler.feed.v1.MetricsFeedGrpcService;
import dev.lagscaler.feed.v1.SubscribeRequest;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.streams.WriteStream;
import io.vertx.grpc.server.GrpcServer;
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
 */
public final class MetricsFeedServer implements MetricsSink, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsFeedServer.class);

    private record Subscriber(String name, Context context, WriteStream<MetricUpdate> stream) {
    }

    private final Vertx vertx;
    private final boolean ownsVertx;
    private final Map<String, MetricUpdate> current = new ConcurrentHashMap<>();
    private final Map<Subscriber, Boolean> subscribers = new ConcurrentHashMap<>();
    private HttpServer server;
    private volatile boolean leading;

    private MetricsFeedServer(Vertx vertx, boolean ownsVertx) {
        this.vertx = vertx;
        this.ownsVertx = ownsVertx;
    }

    /** Starts the feed on {@code host:port} (port 0 picks a free one). */
    public static MetricsFeedServer start(String host, int port) {
        MetricsFeedServer feed = new MetricsFeedServer(Vertx.vertx(), true);
        GrpcServer grpc = GrpcServer.server(feed.vertx);
        grpc.addService(new MetricsFeedGrpcService() {
            @Override
            protected void subscribe(SubscribeRequest request, WriteStream<MetricUpdate> response) {
                feed.subscribe(request, response);
            }
        });
        feed.server = feed.vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port))
                .requestHandler(grpc).listen().await();
        LOG.atInfo().addKeyValue("address", host + ":" + feed.server.actualPort()).log("metrics feed started");
        return feed;
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
        Subscriber subscriber = new Subscriber(request.getSubscriber(), Vertx.currentContext(), response);
        current.values().forEach(response::write);
        response.write(MetricUpdate.newBuilder().setSnapshotDone(true).build());
        subscribers.put(subscriber, true);
        response.exceptionHandler(e -> subscribers.remove(subscriber));
        LOG.atInfo().addKeyValue("subscriber", request.getSubscriber()).addKeyValue("values", current.size()).log("feed subscribed");
    }

    @Override
    public void publish(MetricUpdate update) {
        current.put(key(update.getNamespace(), update.getScaledObject(), update.getMetricName()), update);
        fanOut(update);
    }

    @Override
    public void removeObject(String namespace, String scaledObject) {
        String prefix = namespace + "/" + scaledObject + "/";
        current.keySet().removeIf(k -> {
            if (!k.startsWith(prefix)) {
                return false;
            }
            fanOut(MetricUpdate.newBuilder().setNamespace(namespace).setScaledObject(scaledObject)
                    .setMetricName(k.substring(prefix.length())).setRemoved(true).build());
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
                s.context().runOnContext(v -> {
                    try {
                        s.stream().end();
                    } catch (IllegalStateException e) {
                        // already closed by the other side
                    }
                });
            }
        }
    }

    private void fanOut(MetricUpdate update) {
        for (Subscriber s : subscribers.keySet()) {
            s.context().runOnContext(v -> {
                try {
                    s.stream().write(update);
                } catch (IllegalStateException e) {
                    subscribers.remove(s);
                }
            });
        }
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
