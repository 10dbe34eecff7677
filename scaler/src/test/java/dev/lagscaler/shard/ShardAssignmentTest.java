package dev.lagscaler.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ShardAssignmentTest {
    private static final List<String> UIDS = IntStream.range(0, 2_000)
            .mapToObj(i -> UUID.nameUUIDFromBytes(("so-" + i).getBytes()).toString()).toList();
    private static final ShardRing AB = ShardRing.of(List.of("a", "b"));
    private static final ShardRing ABC = ShardRing.of(List.of("a", "b", "c"));

    private static long held(ShardAssignment s) {
        return UIDS.stream().filter(s::holds).count();
    }

    @Test
    void nothingIsHeldUntilEveryLiveMemberPublishesTheView() {
        ShardAssignment a = ShardAssignment.initial("a");
        ShardAssignment seen = a.next(Map.of("a", "none", "b", "none"));
        assertEquals(0, held(seen), "a ring seen, not agreed");
        assertFalse(seen.settled());
        ShardAssignment half = seen.next(Map.of("a", AB.view(), "b", "none"));
        assertEquals(0, held(half), "b has not published it yet");
        ShardAssignment agreed = half.next(Map.of("a", AB.view(), "b", AB.view()));
        assertTrue(agreed.settled());
        assertEquals(UIDS.stream().filter(u -> AB.owner(u).equals("a")).count(), held(agreed));
    }

    @Test
    void aJoinShrinksHoldingsAtOnceAndGrowsNothingBeforeAgreement() {
        ShardAssignment a = new ShardAssignment("a", List.of(AB));
        ShardAssignment joined = a.next(Map.of("a", AB.view(), "b", AB.view(), "c", "none"));
        for (String uid : UIDS) {
            assertEquals(AB.owner(uid).equals("a") && ABC.owner(uid).equals("a"), joined.holds(uid), uid);
        }
        ShardAssignment agreed = joined.next(Map.of("a", ABC.view(), "b", ABC.view(), "c", ABC.view()));
        UIDS.forEach(uid -> assertEquals(ABC.owner(uid).equals("a"), agreed.holds(uid)));
    }

    @Test
    void holdingsNeverGrowBackBetweenAgreements() {
        // a agreed on {a,b}; c joins (a gives c its part), then c is gone again before anyone agreed: what a gave
        // away may be held by c already, by c's own reading, so a holds it again only after an agreement on {a,b}.
        ShardAssignment a = new ShardAssignment("a", List.of(AB));
        ShardAssignment withC = a.next(Map.of("a", AB.view(), "b", AB.view(), "c", "none"));
        ShardAssignment withoutC = withC.next(Map.of("a", ABC.view(), "b", ABC.view()));
        for (String uid : UIDS) {
            if (!ABC.owner(uid).equals("a")) {
                assertFalse(withoutC.holds(uid), uid + " stays given away until the next agreement");
            }
        }
        ShardAssignment back = withoutC.next(Map.of("a", AB.view(), "b", AB.view()));
        UIDS.forEach(uid -> assertEquals(AB.owner(uid).equals("a"), back.holds(uid)));
    }

    @Test
    void endlessChurnHoldsNothingRatherThanGrowing() {
        ShardAssignment s = new ShardAssignment("a", List.of(AB));
        for (int i = 0; i < 40; i++) {
            s = s.next(i % 2 == 0 ? Map.of("a", "x", "b", "y", "c", "z") : Map.of("a", "x", "b", "y"));
            assertTrue(s.rings().size() <= 17, "bounded: " + s.rings().size());
        }
        assertEquals(0, held(s));
    }
}
