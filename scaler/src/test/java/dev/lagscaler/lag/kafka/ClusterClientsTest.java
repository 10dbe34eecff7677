package dev.lagscaler.lag.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.lag.TriggerError;
import dev.lagscaler.trigger.ClusterConnection;
import dev.lagscaler.trigger.KafkaAuth;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.Test;

/** The clients' lifecycle rule, without a broker: when a client is built, when it waits, and what is its fault. */
class ClusterClientsTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void onlyTheClientsOwnFailuresAreItsFault() {
        assertTrue(ClusterClients.atFault(new TriggerError(TriggerError.Kind.AUTH_FAILED, "login refused"), 3));
        assertTrue(ClusterClients.atFault(new TriggerError(TriggerError.Kind.BROKER_UNREACHABLE, "timeout"), 0));
        assertFalse(ClusterClients.atFault(new TriggerError(TriggerError.Kind.BROKER_UNREACHABLE, "timeout"), 1),
                "a slow coordinator with other connections up: a new client would not reach it sooner");
        for (TriggerError.Kind kind : TriggerError.Kind.values()) {
            if (kind != TriggerError.Kind.AUTH_FAILED && kind != TriggerError.Kind.BROKER_UNREACHABLE) {
                assertFalse(ClusterClients.atFault(new TriggerError(kind, "x"), 0), kind + " is a group's or topic's");
            }
        }
    }

    /** A client that cannot be built (a login refused) is tried again after 1 s, 2 s, 4 s … at most 30 s apart. */
    @Test
    void aClientThatCannotBeBuiltIsTriedAgainWithBackoff() {
        AtomicInteger builds = new AtomicInteger();
        try (ClusterClients clients = new ClusterClients(new ClusterConnection(java.util.List.of("k:9092"), KafkaAuth.NONE), c -> {
            builds.incrementAndGet();
            throw new SaslAuthenticationException("login refused");
        })) {
            Instant at = T0;
            Duration expected = Duration.ofSeconds(1);
            for (int attempt = 1; attempt <= 7; attempt++) {
                Instant now = at;
                ClusterClients.Unavailable built = assertThrows(ClusterClients.Unavailable.class, () -> clients.admin(now));
                assertEquals(attempt, builds.get());
                assertEquals(TriggerError.Kind.AUTH_FAILED, built.error().kind());
                assertTrue(built.error().message().startsWith("the Kafka client could not be created"), built.getMessage());
                Instant waiting = at.plus(expected).minusMillis(1);
                ClusterClients.Unavailable held = assertThrows(ClusterClients.Unavailable.class, () -> clients.admin(waiting));
                assertEquals(attempt, builds.get(), "no build while the backoff runs");
                assertTrue(held.getMessage().contains("backoff"), held.getMessage());
                at = at.plus(expected);
                expected = expected.multipliedBy(2).compareTo(Duration.ofSeconds(30)) > 0 ? Duration.ofSeconds(30)
                        : expected.multipliedBy(2);
            }
            assertEquals(Duration.ofSeconds(30), expected, "capped");
        }
    }

    @Test
    void aPollThatIsNotTheClientsFaultEndsTheBackoff() {
        try (ClusterClients clients = new ClusterClients(new ClusterConnection(java.util.List.of("k:9092"), KafkaAuth.NONE), c -> {
            throw new SaslAuthenticationException("login refused");
        })) {
            assertThrows(ClusterClients.Unavailable.class, () -> clients.admin(T0));
            assertFalse(clients.afterPoll(T0, new TriggerError(TriggerError.Kind.NOT_AUTHORIZED, "denied")),
                    "a group's ACL never rebuilds the client");
            assertTrue(clients.afterPoll(T0, new TriggerError(TriggerError.Kind.AUTH_FAILED, "login refused")));
            assertEquals(0, clients.connections(), "no Admin, no connections");
        }
    }
}
