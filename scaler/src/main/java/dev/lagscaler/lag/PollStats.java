package dev.lagscaler.lag;

import java.time.Duration;
import java.time.Instant;

/** What one batched poll of one Kafka cluster cost: how many triggers it served and the Kafka requests it sent. */
public record PollStats(String cluster, Instant at, int triggers, int groups, int partitions, long kafkaRequests,
                        Duration duration, boolean failed) {
}
