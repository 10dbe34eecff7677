package dev.lagscaler.lag;

/** A partition of a topic, as a map key of the pure core (no kafka-clients type here). */
public record TopicPartitionKey(String topic, int partition) implements Comparable<TopicPartitionKey> {
    @Override
    public int compareTo(TopicPartitionKey o) {
        int byTopic = topic.compareTo(o.topic);
        return byTopic != 0 ? byTopic : Integer.compare(partition, o.partition);
    }

    @Override
    public String toString() {
        return topic + "-" + partition;
    }
}
