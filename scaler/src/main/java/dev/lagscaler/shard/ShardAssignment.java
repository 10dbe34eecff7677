package dev.lagscaler.shard;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What one replica may act on, and the rule that keeps two replicas off one object. Ownership moves only through an
 * agreed view: when the live members change, each replica first stops acting on what the new ring gives to others
 * (its holdings only shrink until then), then publishes the new ring's {@link ShardRing#view()}; a replica starts on
 * an object that was not its own only once every live member publishes that view. A member that stops renewing its
 * Lease stops acting before the others count it gone (see {@code ShardMembership}), so it is fenced by time.
 *
 * <p>{@code rings} are the rings seen since the last agreement, oldest first: an object is held while every one of
 * them gives it to this replica. After an agreement it is that one ring.
 */
public record ShardAssignment(String me, List<ShardRing> rings) {
    private static final int MAX_RINGS = 16;

    public ShardAssignment {
        rings = List.copyOf(rings);
    }

    /** Before any agreement: nothing is held. */
    public static ShardAssignment initial(String me) {
        return new ShardAssignment(me, List.of(ShardRing.of(List.of())));
    }

    /** The latest ring seen: what this replica works toward, and whose view it publishes once it holds no more. */
    public ShardRing target() {
        return rings.get(rings.size() - 1);
    }

    /** Whether the last ring seen is agreed: what it gives this replica is all held. */
    public boolean settled() {
        return rings.size() == 1;
    }

    public boolean holds(String uid) {
        for (ShardRing ring : rings) {
            if (!me.equals(ring.owner(uid))) {
                return false;
            }
        }
        return true;
    }

    /**
     * The next assignment after seeing the live members and the view each publishes (this replica's own included):
     * a changed membership adds its ring (holdings shrink at once); a view every live member publishes, when it is the
     * ring of those members, becomes the only ring (holdings grow to its share).
     */
    public ShardAssignment next(Map<String, String> publishedViews) {
        ShardRing seen = ShardRing.of(publishedViews.keySet());
        List<ShardRing> next = new ArrayList<>(rings);
        if (!seen.equals(target())) {
            next.add(seen);
        }
        boolean agreed = !seen.isEmpty() && publishedViews.values().stream().allMatch(seen.view()::equals);
        if (agreed) {
            return new ShardAssignment(me, List.of(seen));
        }
        // Every ring seen since the agreement stays: dropping one could give back an object that ring's owner took
        // meanwhile. Under endless churn, past a bound, this replica holds nothing until the next agreement.
        return new ShardAssignment(me, next.size() <= MAX_RINGS ? next : List.of(ShardRing.of(List.of()), seen));
    }
}
