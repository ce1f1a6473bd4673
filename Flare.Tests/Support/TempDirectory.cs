using Microsoft.Data.Sqlite;

namespace Flare.Tests.Support;

/// <summary>
/// A fresh folder under the system temp directory, deleted on dispose with the database of a host whose data directory it
/// was (its SQLite files, or its PostgreSQL database: see <see cref="TestProvider"/>).
/// </summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "flare-tests", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        TestProvider.Release(Path);
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A host still shutting down may hold a file for a moment; the OS temp cleaner takes it later.
        }
    }
}
