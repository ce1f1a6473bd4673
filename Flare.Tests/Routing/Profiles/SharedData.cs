namespace Flare.Tests.Routing.Profiles;

/// <summary>The public data sets at <c>../shared/data</c> beside the repository (see its README); tests that
/// need them skip, saying so, when they are absent.</summary>
internal static class SharedData
{
    public static string? Directory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Flare.sln")))
                {
                    var data = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data"));
                    return System.IO.Directory.Exists(data) ? data : null;
                }
            }

            return null;
        }
    }

    /// <summary>The full path of a file under the shared data folder; skips the test when it is not there.</summary>
    public static string RequireFile(params string[] parts)
    {
        var root = Directory;
        Assert.SkipWhen(root is null, "../shared/data (public data sets beside the repository) is absent; this test needs it.");
        var path = Path.Combine([root!, .. parts]);
        Assert.SkipUnless(File.Exists(path), $"{path} is absent; this test needs it.");
        return path;
    }
}
