package dev.lagscaler.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.trigger.AuthParams;
import dev.lagscaler.trigger.KafkaAuth;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.TriggerInput;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import javax.security.auth.callback.Callback;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.security.JaasContext;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.Test;

/**
 * {@code sasl: oauthbearer} with {@code saslTokenProvider: aws_msk_iam}. No AWS endpoint is reachable here, so this
 * checks what can be checked without one: the trigger parses as KEDA parses it, the client configuration it
 * produces, and the token the client would send: a SigV4-presigned {@code kafka-cluster:Connect} URL for the
 * trigger's region, signed with the trigger's own keys (signing needs no network).
 */
class MskIamTest {
    private static final Map<String, String> METADATA = Map.of("bootstrapServers", "b-1.msk.eu-west-1.amazonaws.com:9098",
            "consumerGroup", "g", "topic", "events", "sasl", "oauthbearer", "saslTokenProvider", "aws_msk_iam",
            "tls", "enable", "awsRegion", "eu-west-1");

    private static KafkaAuth auth(Map<String, String> metadata, Map<String, String> params) throws Exception {
        return KafkaTriggerParser.parse(new TriggerInput(metadata, params, Map.of(), null)).auth();
    }

    @Test
    void accessKeysGiveASaslSslOauthbearerClientWhoseTokenIsSignedForTheTriggersRegion() throws Exception {
        KafkaAuth auth = auth(METADATA, Map.of("awsAccessKeyID", "AKIAEXAMPLEKEY12345", "awsSecretAccessKey",
                "wJalrXUtnFEMI-secret-key", "awsSessionToken", "session-token-xyz"));
        Map<String, Object> config = KafkaClientConfig.security(auth);
        assertEquals("SASL_SSL", config.get("security.protocol"));
        assertEquals("OAUTHBEARER", config.get(SaslConfigs.SASL_MECHANISM));
        assertEquals(MskIamLoginCallbackHandler.class, config.get(SaslConfigs.SASL_LOGIN_CALLBACK_HANDLER_CLASS));
        assertFalse(auth.toString().contains("wJalrXUtnFEMI"), "secret keys never printed");

        String token = tokenFrom(config);
        URI signed = URI.create(new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8));
        assertEquals("kafka.eu-west-1.amazonaws.com", signed.getHost());
        Map<String, String> query = query(signed);
        assertEquals("kafka-cluster:Connect", query.get("Action"));
        assertEquals("AWS4-HMAC-SHA256", query.get("X-Amz-Algorithm"));
        assertTrue(query.get("X-Amz-Credential").startsWith("AKIAEXAMPLEKEY12345/"), query.get("X-Amz-Credential"));
        assertTrue(query.get("X-Amz-Credential").endsWith("/eu-west-1/kafka-cluster/aws4_request"), query.get("X-Amz-Credential"));
        assertEquals("session-token-xyz", query.get("X-Amz-Security-Token"));
        assertEquals(64, query.get("X-Amz-Signature").length(), "a hex SHA-256 signature");
        assertFalse(signed.toString().contains("wJalrXUtnFEMI"), "the secret key signs; it is not sent");
    }

    @Test
    void aRegionElsewhereSignsForThatRegion() throws Exception {
        Map<String, String> metadata = new HashMap<>(METADATA);
        metadata.put("awsRegion", "ap-southeast-2");
        String token = tokenFrom(KafkaClientConfig.security(auth(metadata,
                Map.of("awsAccessKeyId", "AKIAOTHER", "awsSecretAccessKey", "other"))));
        URI signed = URI.create(new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8));
        assertEquals("kafka.ap-southeast-2.amazonaws.com", signed.getHost());
    }

    @Test
    void aRoleOrTheOperatorsIdentityAreCarriedToTheLoginNotReplacedByKeys() throws Exception {
        KafkaAuth role = auth(METADATA, Map.of("awsRoleArn", "arn:aws:iam::123456789012:role/msk-reader"));
        assertEquals("arn:aws:iam::123456789012:role/msk-reader", role.awsMskIam().roleArn());
        String jaas = ((String) KafkaClientConfig.security(role).get(SaslConfigs.SASL_JAAS_CONFIG));
        assertTrue(jaas.contains("awsRoleArn=\"arn:aws:iam::123456789012:role/msk-reader\""), jaas);
        assertFalse(jaas.contains("awsAccessKeyId"), jaas);

        Map<String, String> operator = new HashMap<>(METADATA);
        operator.put("identityOwner", "operator");
        assertTrue(auth(operator, Map.of()).awsMskIam().operatorIdentity());
        KafkaAuth pod = auth(METADATA, Map.of(AuthParams.POD_IDENTITY_PROVIDER, "aws"));
        assertTrue(pod.awsMskIam().operatorIdentity());
        assertEquals(null, pod.awsMskIam().accessKeyId());
    }

    /** Builds the login handler from the client configuration, as Kafka's login manager does, and asks for a token. */
    private static String tokenFrom(Map<String, Object> config) throws Exception {
        JaasContext context = JaasContext.loadClientContext(Map.of(SaslConfigs.SASL_JAAS_CONFIG,
                new Password((String) config.get(SaslConfigs.SASL_JAAS_CONFIG))));
        java.util.List<AppConfigurationEntry> entries = context.configurationEntries();
        MskIamLoginCallbackHandler handler = new MskIamLoginCallbackHandler();
        handler.configure(config, "OAUTHBEARER", entries);
        OAuthBearerTokenCallback callback = new OAuthBearerTokenCallback();
        handler.handle(new Callback[] {callback});
        handler.close();
        return callback.token().value();
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> result = new HashMap<>();
        for (String pair : uri.getRawQuery().split("&")) {
            int eq = pair.indexOf('=');
            result.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                    URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return result;
    }
}
