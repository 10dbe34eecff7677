package dev.lagscaler.lag;

/**
 * What Kafka said about one partition in one poll. {@code committed} is {@link #NONE} when the group has no
 * committed offset; {@code latest} is {@link #NONE} when the partition was missing from the log-end answer.
 * {@code earliest} is the log-start offset where it was fetched, else {@link #NONE}.
 */
public record PartitionOffsets(String topic, int partition, long committed, long latest, long earliest) {
    public static final long NONE = -1;

    public PartitionOffsets(String topic, int partition, long committed, long latest) {
        this(topic, partition, committed, latest, NONE);
    }

    public boolean hasCommitted() {
        return committed >= 0;
    }

    public boolean hasLatest() {
        return latest >= 0;
    }

    public TopicPartitionKey key() {
        return new TopicPartitionKey(topic, partition);
    }
}
