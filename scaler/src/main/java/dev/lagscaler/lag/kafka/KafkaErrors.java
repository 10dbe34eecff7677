package dev.lagscaler.lag.kafka;

import dev.lagscaler.lag.TriggerError;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.DisconnectException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.InvalidGroupIdException;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/** Sorts kafka-clients exceptions into the engine's typed errors. */
final class KafkaErrors {
    private KafkaErrors() {
    }

    static TriggerError classify(Throwable failure) {
        // A client that could not log in (Kerberos, a JAAS module) fails while it is built, wrapped in KafkaExceptions:
        // the login's own message is the one that says what is wrong.
        for (Throwable c = failure; c != null && c.getCause() != c; c = c.getCause()) {
            if (c instanceof javax.security.auth.login.LoginException) {
                return new TriggerError(TriggerError.Kind.AUTH_FAILED, "login failed: " + c.getMessage());
            }
        }
        Throwable e = unwrap(failure);
        TriggerError.Kind kind;
        if (e instanceof AuthenticationException) {
            kind = TriggerError.Kind.AUTH_FAILED;
        } else if (e instanceof AuthorizationException denied) {
            return new TriggerError(TriggerError.Kind.NOT_AUTHORIZED, deniedMessage(denied));
        } else if (e instanceof TimeoutException || e instanceof java.util.concurrent.TimeoutException
                || e instanceof DisconnectException || e instanceof NetworkException) {
            kind = TriggerError.Kind.BROKER_UNREACHABLE;
        } else if (e instanceof UnknownTopicOrPartitionException) {
            kind = TriggerError.Kind.TOPIC_MISSING;
        } else if (e instanceof GroupIdNotFoundException || e instanceof InvalidGroupIdException) {
            kind = TriggerError.Kind.GROUP_UNKNOWN;
        } else {
            kind = TriggerError.Kind.OTHER;
        }
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new TriggerError(kind, message);
    }

    /** Names what the ACLs deny and the operation the poll needs, so a user can grant it. */
    private static String deniedMessage(AuthorizationException denied) {
        if (denied instanceof GroupAuthorizationException g && g.groupId() != null) {
            return "Kafka ACLs deny this client the consumer group " + g.groupId()
                    + " (reading its offsets needs Describe on the group)";
        }
        if (denied instanceof TopicAuthorizationException t && !t.unauthorizedTopics().isEmpty()) {
            return "Kafka ACLs deny this client the topic(s) " + String.join(", ", new java.util.TreeSet<>(t.unauthorizedTopics()))
                    + " (reading partitions and log ends needs Describe on the topic)";
        }
        return "Kafka ACLs deny this client: " + (denied.getMessage() == null ? denied.getClass().getSimpleName() : denied.getMessage());
    }

    static Throwable unwrap(Throwable e) {
        while ((e instanceof ExecutionException || e instanceof CompletionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
