using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Flare.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class EmulatorSettings : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Emulator",
                table: "Deployments",
                type: "TEXT",
                maxLength: 2000,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Emulator",
                table: "Deployments");
        }
    }
}
