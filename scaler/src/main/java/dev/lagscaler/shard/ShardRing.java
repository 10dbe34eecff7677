package dev.lagscaler.shard;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * Which operator replica owns which object: a consistent-hash ring over the live replicas' identities, each placed at
 * {@code pointsPerMember} points, and each object placed at the 64-bit FNV-1a hash of its uid (the apiserver's own
 * hash for {@code shardRange(object.metadata.uid, ...)}). An object belongs to the member of the first point above its
 * hash, wrapping round; so when a member joins or leaves, only the objects between its points and their predecessors
 * move. A member's share is a union of hash ranges, which {@link #selector} writes as the apiserver's shard selector.
 */
public final class ShardRing {
    /** Enough points that three members' shares stay within about a fifth of a third each. */
    public static final int DEFAULT_POINTS_PER_MEMBER = 64;

    private final long[] points;
    private final String[] owners;
    private final List<String> members;

    private ShardRing(long[] points, String[] owners, List<String> members) {
        this.points = points;
        this.owners = owners;
        this.members = members;
    }

    public static ShardRing of(Collection<String> members) {
        return of(members, DEFAULT_POINTS_PER_MEMBER);
    }

    public static ShardRing of(Collection<String> members, int pointsPerMember) {
        List<String> sorted = List.copyOf(new TreeSet<>(members));
        record Point(long hash, String member) {
        }
        List<Point> all = new ArrayList<>();
        for (String member : sorted) {
            for (int i = 0; i < pointsPerMember; i++) {
                all.add(new Point(spread(fnv1a64(member + "#" + i)), member));
            }
        }
        // Unsigned order; a tie (never seen in practice) goes to the member first by name, the same on every replica.
        all.sort((a, b) -> a.hash() != b.hash() ? Long.compareUnsigned(a.hash(), b.hash()) : a.member().compareTo(b.member()));
        long[] points = new long[all.size()];
        String[] owners = new String[all.size()];
        for (int i = 0; i < all.size(); i++) {
            points[i] = all.get(i).hash();
            owners[i] = all.get(i).member();
        }
        return new ShardRing(points, owners, sorted);
    }

    /** The members, sorted. */
    public List<String> members() {
        return members;
    }

    public boolean isEmpty() {
        return members.isEmpty();
    }

    /** The member that owns the object of this uid; null on an empty ring. */
    public String owner(String uid) {
        return points.length == 0 ? null : owners[pointAbove(fnv1a64(uid))];
    }

    /** The index of the first point strictly above {@code hash}, wrapping to 0. */
    private int pointAbove(long hash) {
        int lo = 0;
        int hi = points.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(points[mid], hash) <= 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo == points.length ? 0 : lo;
    }

    /** A range of hashes, start inclusive, end exclusive; {@code end == null} is 2^64 (the end of the hash space). */
    public record Range(long start, Long end) {
        public boolean contains(long hash) {
            return Long.compareUnsigned(hash, start) >= 0 && (end == null || Long.compareUnsigned(hash, end) < 0);
        }
    }

    /** The hash ranges {@code member} owns, in order, adjacent ones merged. */
    public List<Range> ranges(String member) {
        List<Range> ranges = new ArrayList<>();
        if (points.length == 0 || !members.contains(member)) {
            return ranges;
        }
        // Point i owns [point i-1, point i); point 0 also owns the wrap: [last point, 2^64) and [0, point 0).
        for (int i = 0; i < points.length; i++) {
            if (!owners[i].equals(member)) {
                continue;
            }
            if (i == 0) {
                add(ranges, 0, points[0]);
            } else {
                add(ranges, points[i - 1], points[i]);
            }
        }
        if (owners[0].equals(member) && points[points.length - 1] != 0) {
            ranges.add(new Range(points[points.length - 1], null));
        }
        return ranges;
    }

    private static void add(List<Range> ranges, long start, long end) {
        if (start == end) {
            return;
        }
        Range last = ranges.isEmpty() ? null : ranges.get(ranges.size() - 1);
        if (last != null && last.end() != null && last.end() == start) {
            ranges.set(ranges.size() - 1, new Range(last.start(), end));
        } else {
            ranges.add(new Range(start, end));
        }
    }

    /**
     * {@code member}'s share as the apiserver's shard selector (ShardedListAndWatch, Kubernetes 1.36):
     * {@code shardRange(object.metadata.uid, '0x…', '0x…') || …}, 16 hex digits each, 2^64 written as
     * {@code 0x10000000000000000}. Null when it owns nothing.
     */
    public String selector(String member) {
        return selector(member, "object.metadata.uid");
    }

    /** The same over {@code field}: {@code object.metadata.uid} or {@code object.metadata.namespace}. */
    public String selector(String member, String field) {
        List<String> parts = new ArrayList<>();
        for (Range r : ranges(member)) {
            parts.add("shardRange(" + field + ", '" + hex(r.start()) + "', '"
                    + (r.end() == null ? "0x10000000000000000" : hex(r.end())) + "')");
        }
        return parts.isEmpty() ? null : String.join(" || ", parts);
    }

    private static String hex(long value) {
        return "0x" + String.format("%016x", value);
    }

    /** 64-bit FNV-1a over the UTF-8 bytes: Go's hash/fnv New64a, which the apiserver's shardRange uses. */
    public static long fnv1a64(String value) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= 0x100000001b3L;
        }
        return hash;
    }

    /**
     * Where a member's points go: FNV-1a of names that differ in their last characters lands close together (its high
     * bits mix little), so the points are spread with MurmurHash3's 64-bit finalizer. Objects keep plain FNV-1a: the
     * apiserver's hash, over random uids.
     */
    private static long spread(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /** A digest of the membership, the same on every replica that sees the same members: the view they agree on. */
    public String view() {
        return members.isEmpty() ? "0" : Long.toHexString(fnv1a64(String.join(",", members)));
    }

    @Override
    public String toString() {
        return "ShardRing" + members + "x" + (members.isEmpty() ? 0 : points.length / members.size());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShardRing r && Arrays.equals(points, r.points) && Arrays.equals(owners, r.owners);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(points);
    }
}
