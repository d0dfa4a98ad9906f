package dev.swarmd.protocol;

import java.util.Map;

/** What the user sets on a node. role: manager|worker; availability: active|pause|drain. */
public record NodeSpec(String name, Map<String, String> labels, String role, String availability)
    implements CborSerializable {}
