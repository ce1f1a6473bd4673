namespace Flare.Tests;

/// <summary>
/// Tests that start hosts (Flare, the emulator, Hangfire servers) run one at a time: Hangfire keeps
/// global state, and two hosts at once would make each other's timings noisy on a 2-core machine.
/// </summary>
[CollectionDefinition(nameof(HostCollection), DisableParallelization = true)]
public sealed class HostCollection;
