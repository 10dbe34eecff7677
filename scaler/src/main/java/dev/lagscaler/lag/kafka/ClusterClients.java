package dev.lagscaler.lag.kafka;

import dev.lagscaler.auth.KafkaClientConfig;
import dev.lagscaler.lag.TriggerError;
import dev.lagscaler.trigger.ClusterConnection;
import dev.lagscaler.trigger.SaslMechanism;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * One Kafka cluster's clients and their lifecycle, and nothing else: the shared Admin and the log-end consumer, each
 * built when first needed; closed and rebuilt with backoff (1 s doubling to 30 s) only when the client itself is at
 * fault (a refused login, no broker reachable), never for a group's, topic's or partition's failure. Used by the poll
 * thread; {@link #close()} may come from any thread and returns at once.
 */
final class ClusterClients implements AutoCloseable {
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    /** No Admin for this poll: every due trigger fails with {@link #error()}. */
    static final class Unavailable extends Exception {
        private final transient TriggerError error;

        Unavailable(TriggerError error) {
            super(error.message(), null, false, false);
            this.error = error;
        }

        TriggerError error() {
            return error;
        }
    }

    private final ClusterConnection connection;
    private final Function<ClusterConnection, Admin> adminFactory;
    private Admin admin;
    private KafkaConsumer<byte[], byte[]> offsets;
    /** The current clients' own counters (replaced with the clients). */
    private ClientMetric adminRequests;
    private ClientMetric adminConnections;
    private ClientMetric adminConnectionsCreated;
    private ClientMetric offsetsRequests;
    private volatile boolean closed;
    private Instant retryAt = Instant.MIN;
    private Duration backoff = FIRST_BACKOFF;
    private TriggerError lastError;

    ClusterClients(ClusterConnection connection, Function<ClusterConnection, Admin> adminFactory) {
        this.connection = connection;
        this.adminFactory = adminFactory;
    }

    /**
     * The Admin for a poll at {@code now}, built if there is none. Throws while a rebuild waits out its backoff, and
     * when the client cannot be built (a Kerberos login refused, unreadable key material): the next try then waits
     * like a broken client's rebuild.
     */
    Admin admin(Instant now) throws Unavailable {
        if (admin != null) {
            return admin;
        }
        if (now.isBefore(retryAt)) {
            throw new Unavailable(new TriggerError(lastError.kind(), lastError.message()
                    + " (client rebuilt after " + Duration.between(now, retryAt).toSeconds() + "s backoff)"));
        }
        try {
            Admin built = build();
            adminRequests = new ClientMetric(built::metrics, "admin-client-metrics", "request-total");
            adminConnections = new ClientMetric(built::metrics, "admin-client-metrics", "connection-count");
            adminConnectionsCreated = new ClientMetric(built::metrics, "admin-client-metrics", "connection-creation-total");
            admin = built;
            return admin;
        } catch (RuntimeException e) {
            TriggerError error = KafkaErrors.classify(e);
            rebuildLater(now, new TriggerError(error.kind(), "the Kafka client could not be created: " + error.message()));
            throw new Unavailable(lastError);
        }
    }

    /**
     * Builds the Admin client. A login (GSSAPI, OAUTHBEARER, MSK IAM) runs here and may take as long as its KDC or
     * token endpoint does, so no lock is held: {@link #close()} returns at once, and a client finished after it is
     * closed here instead of kept.
     */
    private Admin build() {
        if (closed) {
            throw new IllegalStateException("the poller is closed");
        }
        Admin built = adminFactory.apply(connection);
        synchronized (this) {
            if (!closed) {
                return built;
            }
        }
        built.close(Duration.ZERO);
        throw new IllegalStateException("the poller is closed");
    }

    /**
     * The consumer whose {@code endOffsets} reads log ends (see {@link ClusterPoller}), built on first use; null for
     * GSSAPI clusters (their login lives in the Admin alone) and once closed.
     */
    KafkaConsumer<byte[], byte[]> logEndConsumer() {
        if (connection.auth().sasl() == SaslMechanism.GSSAPI || closed) {
            return null;
        }
        if (offsets == null) {
            Map<String, Object> config = new HashMap<>(KafkaClientConfig.security(connection.auth()));
            config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, connection.label());
            config.put(ConsumerConfig.CLIENT_ID_CONFIG, "lagscaler-offsets-" + connection.label().hashCode());
            config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
            config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
            KafkaConsumer<byte[], byte[]> built = new KafkaConsumer<>(config);
            offsetsRequests = new ClientMetric(built::metrics, "consumer-metrics", "request-total");
            offsets = built;
        }
        return offsets;
    }

    /**
     * After a poll in which every due trigger failed with an error that can be the client's ({@code
     * TriggerError.Kind.rebuildsClient}): closes the clients for a rebuild after the backoff when the client is at
     * fault, and says whether it did. Any other poll ends the backoff.
     */
    boolean afterPoll(Instant now, TriggerError everyTriggerFailedWith) {
        if (everyTriggerFailedWith != null && atFault(everyTriggerFailedWith, connections())) {
            rebuildLater(now, everyTriggerFailedWith);
            return true;
        }
        backoff = FIRST_BACKOFF;
        return false;
    }

    /**
     * Whether a poll in which every trigger failed with {@code error} says the client itself is broken: a refused
     * login always does; a timeout only when the client holds no connection to any broker (a single slow group
     * coordinator leaves the other connections up, and a new client would not reach it sooner).
     */
    static boolean atFault(TriggerError error, int connections) {
        return error.kind() == TriggerError.Kind.AUTH_FAILED
                || (error.kind() == TriggerError.Kind.BROKER_UNREACHABLE && connections == 0);
    }

    private void rebuildLater(Instant now, TriggerError error) {
        closeClients();
        lastError = error;
        retryAt = now.plus(backoff);
        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    }

    /** The clients' own count of requests sent, across all brokers: the Admin's and the log-end consumer's. */
    long requestCount() {
        return (long) (value(admin == null ? null : adminRequests) + value(offsets == null ? null : offsetsRequests));
    }

    /** The Admin's open broker connections (0 without an Admin). */
    int connections() {
        return (int) value(admin == null ? null : adminConnections);
    }

    /** Connections the Admin has opened so far. */
    long connectionsCreated() {
        return (long) value(admin == null ? null : adminConnectionsCreated);
    }

    private static double value(ClientMetric metric) {
        return metric == null ? 0 : metric.value();
    }

    private void closeClients() {
        if (admin != null) {
            Admin closing = admin;
            admin = null;
            closing.close(Duration.ZERO);
        }
        if (offsets != null) {
            KafkaConsumer<byte[], byte[]> closing = offsets;
            offsets = null;
            try {
                closing.close(Duration.ZERO);
            } catch (java.util.ConcurrentModificationException e) {
                // A poll is using it on the poll thread: that poll ends with an exception and nothing else uses it.
            }
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        closeClients();
    }
}
