package dev.lagscaler.adapter;

/**
 * A record's default hash sums its fields' hashes times 31. For the adapter's keys that is a poor spread: a
 * ScaledObject is often named after its topic and its metric is {@code s0-kafka-<topic>}, so the varying characters
 * of both move together and the low bits of the sum stay equal, which is what a hash map's bucket index reads.
 */
final class Hashes {
    private Hashes() {
    }

    /** The fields' hashes combined, then avalanched (MurmurHash3's finalizer: a bijection, so no new collisions). */
    static int of(String first, String second, String third) {
        int h = 31 * (31 * first.hashCode() + second.hashCode()) + (third == null ? 0 : third.hashCode());
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        return h ^ (h >>> 16);
    }
}
