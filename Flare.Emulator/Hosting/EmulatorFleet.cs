using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using Flare.Emulator.Profiles;

namespace Flare.Emulator.Hosting;

/// <summary>
/// The named emulated backends one emulator server serves. Thread-safe: backends can be added, retuned and
/// removed while requests run. Removing a backend, or changing its profile, lets its in-flight requests finish
/// on the old scheduler loop; new requests go to the new one.
/// </summary>
public sealed class EmulatorFleet : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, EmulatorBackend> _backends = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private EmulatorBackendOptions? _defaultBackend;

    /// <summary>Creates an empty fleet.</summary>
    /// <param name="timeProvider">Clock of the scheduler loops. Default <see cref="TimeProvider.System"/>.</param>
    public EmulatorFleet(TimeProvider? timeProvider = null) => _time = timeProvider ?? TimeProvider.System;

    /// <summary>
    /// When set, a request to an unknown backend name creates a backend with these options under that name.
    /// Default null: unknown names get a 404 in OpenAI's error shape.
    /// </summary>
    public EmulatorBackendOptions? DefaultBackend
    {
        get => Volatile.Read(ref _defaultBackend);
        set
        {
            if (value is not null)
            {
                Validate(value);
            }

            Volatile.Write(ref _defaultBackend, value);
        }
    }

    /// <summary>The backends, in no particular order.</summary>
    public IReadOnlyCollection<EmulatorBackend> Backends => _backends.Values.ToList();

    /// <summary>Adds a backend, or updates an existing one (same profile: retuned in place; new profile: replaced).</summary>
    /// <exception cref="ArgumentException">The name is not a single URL path segment, or the options are invalid (unknown profile, out-of-range values).</exception>
    public EmulatorBackend AddOrUpdate(string name, EmulatorBackendOptions options)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Contains('/') || name.Contains('?') || name.Contains('#'))
        {
            throw new ArgumentException($"Backend name '{name}' must be a non-empty URL path segment.", nameof(name));
        }

        var profile = Validate(options);
        lock (_gate)
        {
            return AddOrUpdateLocked(name, options, profile);
        }
    }

    private EmulatorBackend AddOrUpdateLocked(string name, EmulatorBackendOptions options, EmulatorProfile profile)
    {
        if (_backends.TryGetValue(name, out var existing))
        {
            if (existing.Profile == profile)
            {
                existing.Options = options;
                return existing;
            }

            existing.Engine.Retire();
        }

        var backend = new EmulatorBackend(name, options, profile, _time);
        _backends[name] = backend;
        return backend;
    }

    /// <summary>Removes a backend; its in-flight requests finish. Returns false if there was none.</summary>
    public bool Remove(string name)
    {
        lock (_gate)
        {
            if (!_backends.TryRemove(name, out var backend))
            {
                return false;
            }

            backend.Engine.Retire();
            return true;
        }
    }

    /// <summary>Finds a backend by name (case-sensitive, like a URL path).</summary>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EmulatorBackend? backend) =>
        _backends.TryGetValue(name, out backend);

    /// <summary>Stops every scheduler loop; requests still running end with a broken stream.</summary>
    public async ValueTask DisposeAsync()
    {
        List<EmulatorBackend> all;
        lock (_gate)
        {
            all = [.. _backends.Values];
            _backends.Clear();
        }

        foreach (var backend in all)
        {
            await backend.Engine.DisposeAsync();
        }
    }

    internal EmulatorBackend? Resolve(string name)
    {
        if (_backends.TryGetValue(name, out var backend))
        {
            return backend;
        }

        if (DefaultBackend is not { } defaults)
        {
            return null;
        }

        if (name.Contains('/'))
        {
            return null;
        }

        var profile = Validate(defaults);
        lock (_gate)
        {
            return _backends.TryGetValue(name, out backend) ? backend : AddOrUpdateLocked(name, defaults, profile);
        }
    }

    private static EmulatorProfile Validate(EmulatorBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), errors, true)
            | !Validator.TryValidateObject(options.Faults, new ValidationContext(options.Faults), errors, true))
        {
            throw new ArgumentException("Invalid emulator backend options: " + string.Join("; ", errors.Select(e => e.ErrorMessage)), nameof(options));
        }

        if (!EmulatorProfiles.TryGet(options.Profile, out var profile))
        {
            throw new ArgumentException(
                $"Unknown emulator profile '{options.Profile}'. Known: {string.Join(", ", EmulatorProfiles.All.Select(p => p.Name))}.", nameof(options));
        }

        return profile;
    }
}
