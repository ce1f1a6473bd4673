using Flare.Routing.Profiles;

namespace Flare.Tests.Support;

/// <summary>An <see cref="IProfileSource"/> whose snapshot a test sets.</summary>
public sealed class StaticProfileSource(ProfileSnapshot? snapshot = null) : IProfileSource
{
    public ProfileSnapshot Current { get; private set; } = snapshot ?? ProfileSnapshot.Empty;

    public event Action<ProfileSnapshot>? Published;

    /// <summary>Publishes the profiles as the next revision.</summary>
    public void Publish(IReadOnlyDictionary<int, DeploymentProfile> profiles)
    {
        Current = new ProfileSnapshot(Current.Revision + 1, profiles);
        Published?.Invoke(Current);
    }
}
