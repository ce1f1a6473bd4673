using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Flare.Data.Security;

/// <summary>
/// One key of ASP.NET Core Data Protection's key ring, as XML. Hosts that share a PostgreSQL database keep their key ring
/// here, so a secret one host encrypted (a deployment's API key) another can read, and a sign-in cookie one host issued
/// another accepts. Unused on SQLite, whose single host keeps its key ring in a folder beside the file.
/// </summary>
public sealed class DataProtectionKeyEntity
{
    public int Id { get; set; }
    public string FriendlyName { get; set; } = "";
    public string Xml { get; set; } = "";
}

internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKeyEntity>
{
    public void Configure(EntityTypeBuilder<DataProtectionKeyEntity> b)
    {
        b.ToTable("DataProtectionKeys");
        b.Property(x => x.FriendlyName).HasMaxLength(200);
    }
}
