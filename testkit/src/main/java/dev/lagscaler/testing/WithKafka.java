package dev.lagscaler.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives a test class a real Kafka cluster (a {@link KafkaCluster} or {@link EmbeddedKafka} parameter). One cluster
 * per distinct setting is started per test JVM and shared by all classes that ask for it.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Tag("kafka")
@ExtendWith(KafkaExtension.class)
public @interface WithKafka {
    int brokers() default 1;

    /** SCRAM users as {@code name=password}; they get a SASL_PLAINTEXT listener (SASL_SSL with {@link #saslTls}). */
    String[] scramUsers() default {};

    /** The SCRAM listener speaks TLS, with a certificate from the cluster's own CA ({@code EmbeddedKafka.caPem()}). */
    boolean saslTls() default false;

    /** ACLs enforced for the SASL users ({@code EmbeddedKafka.Options.withAclAuthorizer}); deny with {@code denyGroup}. */
    boolean aclAuthorizer() default false;

    /**
     * The broker listens on the real node's address ({@link LocalNode#ADDRESS}) instead of loopback, so pods reach it;
     * for classes that also ask for {@code @WithControlPlane(node = true)}.
     */
    boolean onNode() default false;
}
