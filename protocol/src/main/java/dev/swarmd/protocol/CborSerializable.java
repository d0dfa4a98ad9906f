package dev.swarmd.protocol;

/** Marker for every message, event and state that crosses a serializer; bound to Jackson CBOR. */
public interface CborSerializable {}
