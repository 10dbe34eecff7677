package dev.lagscaler.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ShardRingTest {
    private static final List<String> UIDS = uids(20_000);

    private static List<String> uids(int n) {
        Random random = new Random(7);
        List<String> uids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            uids.add(new UUID(random.nextLong(), random.nextLong()).toString());
        }
        return uids;
    }

    @Test
    void hashesAsGosFnv1a64() {
        // The reference vectors of FNV-1a 64 (as Go's hash/fnv answers them).
        assertEquals(0xcbf29ce484222325L, ShardRing.fnv1a64(""));
        assertEquals(0xaf63dc4c8601ec8cL, ShardRing.fnv1a64("a"));
        assertEquals(0x85944171f73967e8L, ShardRing.fnv1a64("foobar"));
    }

    @Test
    void everyObjectHasExactlyOneOwnerWhoseRangesHoldIt() {
        ShardRing ring = ShardRing.of(List.of("op-0", "op-1", "op-2"));
        for (String uid : UIDS) {
            String owner = ring.owner(uid);
            long hash = ShardRing.fnv1a64(uid);
            for (String member : ring.members()) {
                boolean inRanges = ring.ranges(member).stream().anyMatch(r -> r.contains(hash));
                assertEquals(member.equals(owner), inRanges, uid + " owned by " + owner + ", ranges of " + member);
            }
        }
    }

    @Test
    void sharesAreEvenEnough() {
        ShardRing ring = ShardRing.of(List.of("op-0", "op-1", "op-2"));
        Map<String, Integer> counts = new HashMap<>();
        UIDS.forEach(uid -> counts.merge(ring.owner(uid), 1, Integer::sum));
        for (String member : ring.members()) {
            double share = counts.getOrDefault(member, 0) / (double) UIDS.size();
            assertTrue(share > 0.25 && share < 0.42, member + " owns " + share + ": " + counts);
        }
    }

    @Test
    void aJoiningMemberTakesOnlyFromOthersAndALeavingOneGivesOnlyItsOwn() {
        ShardRing two = ShardRing.of(List.of("op-0", "op-1"));
        ShardRing three = ShardRing.of(List.of("op-0", "op-1", "op-2"));
        int moved = 0;
        for (String uid : UIDS) {
            if (!two.owner(uid).equals(three.owner(uid))) {
                moved++;
                assertEquals("op-2", three.owner(uid), "a join moves objects only to the new member");
            }
        }
        assertTrue(moved > UIDS.size() / 5 && moved < UIDS.size() / 2, "about a third moves: " + moved);
        ShardRing without1 = ShardRing.of(List.of("op-0", "op-2"));
        for (String uid : UIDS) {
            if (!three.owner(uid).equals("op-1")) {
                assertEquals(three.owner(uid), without1.owner(uid), "a leave moves only the leaver's objects");
            }
        }
    }

    @Test
    void theSelectorIsTheApiserversShardRangeSyntax() {
        ShardRing ring = ShardRing.of(List.of("op-0", "op-1"), 4);
        Pattern range = Pattern.compile("shardRange\\(object\\.metadata\\.uid, '0x[0-9a-f]{16}', '(0x[0-9a-f]{16}|0x10000000000000000)'\\)");
        for (String member : ring.members()) {
            String selector = ring.selector(member);
            for (String part : selector.split(" \\|\\| ")) {
                assertTrue(range.matcher(part).matches(), part);
            }
            assertEquals(ring.ranges(member).size(), selector.split(" \\|\\| ").length);
        }
        // Together the two members' ranges cover the hash space once: their lengths add up to 2^64.
        java.math.BigInteger total = java.math.BigInteger.ZERO;
        for (String member : ring.members()) {
            for (ShardRing.Range r : ring.ranges(member)) {
                java.math.BigInteger end = r.end() == null ? java.math.BigInteger.ONE.shiftLeft(64)
                        : new java.math.BigInteger(Long.toUnsignedString(r.end()));
                total = total.add(end.subtract(new java.math.BigInteger(Long.toUnsignedString(r.start()))));
            }
        }
        assertEquals(java.math.BigInteger.ONE.shiftLeft(64), total);
    }

    @Test
    void anEmptyRingOwnsNothingAndOneMemberOwnsAll() {
        ShardRing empty = ShardRing.of(List.of());
        assertNull(empty.owner("x"));
        assertNull(empty.selector("op-0"));
        ShardRing one = ShardRing.of(List.of("op-0"));
        UIDS.subList(0, 100).forEach(uid -> assertEquals("op-0", one.owner(uid)));
        assertEquals(ShardRing.of(List.of("b", "a")).view(), ShardRing.of(List.of("a", "b")).view(), "order-free view");
    }
}
