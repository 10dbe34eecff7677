package dev.lagscaler.trigger;

/** Auth params the operator adds itself while resolving a TriggerAuthentication (not written by users). */
public final class AuthParams {
    /**
     * Set to the TriggerAuthentication's {@code spec.podIdentity.provider}: {@code aws} means the operator's own AWS
     * identity signs in (with {@code podIdentity.roleArn}, if any, passed on as {@code awsRoleArn}).
     */
    public static final String POD_IDENTITY_PROVIDER = "lagscaler.podIdentity.provider";

    private AuthParams() {
    }
}
