package dev.lagscaler.trigger;

import java.util.List;
import java.util.TreeSet;

/**
 * Where a Kafka cluster is and how to log in to it. Triggers with equal connections share one Admin client, so
 * the bootstrap list is kept in a canonical order. {@link #toString()} shows no secret.
 */
public record ClusterConnection(List<String> bootstrapServers, KafkaAuth auth) {
    public ClusterConnection {
        bootstrapServers = List.copyOf(new TreeSet<>(bootstrapServers));
    }

    /** A short label for logs and metrics: the bootstrap servers only. */
    public String label() {
        return String.join(",", bootstrapServers);
    }

    @Override
    public String toString() {
        return "ClusterConnection[" + label() + ", " + auth + "]";
    }
}
