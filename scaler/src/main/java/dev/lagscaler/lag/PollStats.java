package dev.lagscaler.lag;

import java.time.Duration;
import java.time.Instant;

/** What one batched poll of one Kafka cluster cost: how many triggers it served and the Kafka requests it sent. */
public record PollStats(String cluster, Instant at, int triggers, int groups, int partitions, long kafkaRequests,
                        Duration duration, boolean failed, int connections, long connectionsCreated) {
    /** A poll that reached no client (none built, or it failed): no connection figures. */
    public PollStats(String cluster, Instant at, int triggers, int groups, int partitions, long kafkaRequests,
                     Duration duration, boolean failed) {
        this(cluster, at, triggers, groups, partitions, kafkaRequests, duration, failed, 0, 0);
    }
}
