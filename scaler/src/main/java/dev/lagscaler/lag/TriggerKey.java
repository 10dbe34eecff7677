package dev.lagscaler.lag;

/** Which trigger: the ScaledObject's namespace and name and the trigger's index in it. */
public record TriggerKey(String namespace, String scaledObject, int index) {
    @Override
    public String toString() {
        return namespace + "/" + scaledObject + "#" + index;
    }
}
