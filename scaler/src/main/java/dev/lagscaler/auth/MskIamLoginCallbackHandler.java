package dev.lagscaler.auth;

import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.msk.auth.iam.IAMOAuthBearerToken;
import software.amazon.msk.auth.iam.internals.AWS4SignedPayloadGenerator;
import software.amazon.msk.auth.iam.internals.AuthenticationRequestParams;
import software.amazon.msk.auth.iam.internals.MSKCredentialProvider;
import software.amazon.msk.auth.iam.internals.UserAgentUtils;

/**
 * The OAUTHBEARER token for AWS MSK IAM ({@code saslTokenProvider: aws_msk_iam}), signed by AWS's
 * {@code aws-msk-iam-auth} library as its own {@code IAMOAuthBearerLoginCallbackHandler} signs it, but with the
 * region and the credentials of this one trigger (the library's handler takes the region from the process's
 * environment, which one operator serving many triggers cannot set per trigger).
 *
 * <p>Reads the options of the {@code OAuthBearerLoginModule} JAAS entry: {@code awsRegion}; then static keys
 * ({@code awsAccessKeyId}, {@code awsSecretAccessKey}, {@code awsSessionToken}), or {@code awsRoleArn} (assumed
 * with the operator's identity), or nothing (the operator's identity through AWS's default chain).
 */
public final class MskIamLoginCallbackHandler implements AuthenticateCallbackHandler {
    static final String REGION = "awsRegion";
    static final String ROLE_ARN = "awsRoleArn";
    static final String ACCESS_KEY_ID = "awsAccessKeyId";
    static final String SECRET_ACCESS_KEY = "awsSecretAccessKey";
    static final String SESSION_TOKEN = "awsSessionToken";

    private final AWS4SignedPayloadGenerator signer = new AWS4SignedPayloadGenerator();
    private AwsCredentialsProvider credentials;
    private String region;

    @Override
    public void configure(Map<String, ?> configs, String saslMechanism, List<AppConfigurationEntry> jaasConfigEntries) {
        if (!"OAUTHBEARER".equals(saslMechanism)) {
            throw new IllegalArgumentException("AWS MSK IAM signs OAUTHBEARER tokens, not " + saslMechanism);
        }
        Map<String, Object> options = new HashMap<>();
        jaasConfigEntries.forEach(e -> options.putAll(e.getOptions()));
        region = (String) options.get(REGION);
        if (region == null || region.isBlank()) {
            throw new IllegalArgumentException("no awsRegion in the JAAS options");
        }
        String keyId = (String) options.get(ACCESS_KEY_ID);
        if (keyId != null) {
            String secret = (String) options.get(SECRET_ACCESS_KEY);
            String token = (String) options.get(SESSION_TOKEN);
            credentials = StaticCredentialsProvider.create(token == null ? AwsBasicCredentials.create(keyId, secret)
                    : AwsSessionCredentials.create(keyId, secret, token));
        } else {
            Map<String, Object> provider = new HashMap<>();
            if (options.get(ROLE_ARN) != null) {
                provider.put(ROLE_ARN, options.get(ROLE_ARN));
                provider.put("awsRoleSessionName", "lagscaler");
                provider.put("awsStsRegion", region);
            }
            credentials = new MSKCredentialProvider(provider);
        }
    }

    @Override
    public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
        for (Callback callback : callbacks) {
            if (!(callback instanceof OAuthBearerTokenCallback tokenCallback)) {
                throw new UnsupportedCallbackException(callback);
            }
            try {
                tokenCallback.token(new IAMOAuthBearerToken(token(credentials.resolveCredentials())));
            } catch (URISyntaxException e) {
                tokenCallback.error("invalid_token", "the signed MSK IAM URL did not parse: " + e.getMessage(), null);
            }
        }
    }

    /** The token: the Base64url of a presigned {@code kafka-cluster:Connect} URL for this region's MSK host. */
    String token(AwsCredentials awsCredentials) {
        String userAgent = UserAgentUtils.getUserAgentValue();
        AuthenticationRequestParams params = AuthenticationRequestParams.create(
                "kafka." + region + ".amazonaws.com", awsCredentials, userAgent);
        SdkHttpFullRequest request = signer.presignRequest(params).toBuilder()
                .appendRawQueryParameter("User-Agent", userAgent).build();
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString(request.getUri().toString().getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        if (credentials instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                // Closing an STS client: nothing left to do with the error.
            }
        }
    }
}
