//! A guard for Excel 97–2003 files (the OLE compound file container) before
//! they reach the spreadsheet reader: a damaged or hostile file can chain
//! its sectors in a loop, or declare a stream far larger than itself, and
//! the reader would then allocate without end. Here every sector chain must
//! end, every pointer must land inside the allocation table, and no stream
//! may claim more bytes than the file has. Found by fuzzing.

const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
/// Ids from here up are markers (free, end of chain, FAT or DIFAT sector).
const MAXREGSECT: u32 = 0xFFFF_FFFA;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

struct File<'a> {
    bytes: &'a [u8],
    sector: usize,
}

impl File<'_> {
    fn sector(&self, id: u32) -> Result<&[u8], String> {
        let start = (id as usize)
            .checked_add(1)
            .and_then(|n| n.checked_mul(self.sector))
            .ok_or("sector id")?;
        let end = (start + self.sector).min(self.bytes.len());
        self.bytes
            .get(start..end)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("sector {id} nằm ngoài tệp"))
    }

    fn words(&self, id: u32) -> Result<Vec<u32>, String> {
        Ok(self
            .sector(id)?
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
}

/// Every chain of a table ends, inside the table: no loops, no strays.
fn check_table(table: &[u32], what: &str) -> Result<(), String> {
    // 0 unseen, 1 on the current walk, 2 known to end.
    let mut state = vec![0u8; table.len()];
    for startid in 0..table.len() {
        let mut walk = Vec::new();
        let mut id = startid;
        loop {
            match state[id] {
                2 => break,
                1 => return Err(format!("chuỗi {what} bị lặp vòng")),
                _ => {}
            }
            state[id] = 1;
            walk.push(id);
            let next = table[id];
            if next >= MAXREGSECT {
                break;
            }
            if next as usize >= table.len() {
                return Err(format!("chuỗi {what} trỏ ra ngoài bảng"));
            }
            id = next as usize;
        }
        for w in walk {
            state[w] = 2;
        }
    }
    Ok(())
}

fn chain(table: &[u32], start: u32) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    let mut id = start;
    while id < MAXREGSECT {
        if id as usize >= table.len() || out.len() > table.len() {
            return Err("chuỗi sector không hợp lệ".into());
        }
        out.push(id);
        id = table[id as usize];
    }
    Ok(out)
}

/// Checks an OLE compound file's structure; the error says what is wrong.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let header = bytes.get(..512).ok_or("tệp quá ngắn")?;
    let sector = match u16_at(header, 0x1E) {
        Some(9) => 512,
        Some(12) => 4096,
        _ => return Err("kích thước sector không hợp lệ".into()),
    };
    let f = File { bytes, sector };
    let max_sectors = bytes.len() / sector + 1;
    // The DIFAT: 109 entries in the header, then a chain of DIFAT sectors.
    let mut difat: Vec<u32> = (0..109)
        .filter_map(|i| u32_at(header, 0x4C + 4 * i))
        .collect();
    let mut next = u32_at(header, 0x44).ok_or("header")?;
    let mut hops = 0;
    while next < MAXREGSECT {
        hops += 1;
        if hops > max_sectors {
            return Err("chuỗi DIFAT bị lặp vòng".into());
        }
        let mut words = f.words(next)?;
        next = words.pop().unwrap_or(ENDOFCHAIN);
        difat.extend(words);
    }
    let mut fat = Vec::new();
    for id in difat.into_iter().filter(|id| *id < MAXREGSECT) {
        fat.extend(f.words(id)?);
        if fat.len() > max_sectors * (sector / 4) {
            return Err("bảng FAT quá lớn".into());
        }
    }
    check_table(&fat, "FAT")?;
    let dir_start = u32_at(header, 0x30).ok_or("header")?;
    let mut dirs = Vec::new();
    for id in chain(&fat, dir_start)? {
        dirs.extend_from_slice(f.sector(id)?);
    }
    let limit = bytes.len() as u64;
    let mut workbook: Option<(u32, u64)> = None;
    for entry in dirs.chunks_exact(128) {
        let kind = entry[0x42];
        if kind == 0 {
            continue;
        }
        let size = u64::from_le_bytes(entry[0x78..0x80].try_into().map_err(|_| "directory")?);
        let size = if sector == 512 {
            size & 0xFFFF_FFFF
        } else {
            size
        };
        if size > limit {
            return Err(format!(
                "một luồng dữ liệu khai {size} byte, lớn hơn cả tệp"
            ));
        }
        let start = u32_at(entry, 0x74).ok_or("directory")?;
        if start < MAXREGSECT && size >= 4096 && start as usize >= fat.len() {
            return Err("luồng dữ liệu bắt đầu ngoài bảng FAT".into());
        }
        let name_len = (u16_at(entry, 0x40).unwrap_or(0) as usize).min(64);
        let name: Vec<u16> = entry[..name_len]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let name = String::from_utf16_lossy(&name);
        if matches!(name.trim_end_matches('\0'), "Workbook" | "Book") {
            workbook = Some((start, size));
        }
    }
    let root = dirs.get(..128).ok_or("directory")?;
    let root_start = u32_at(root, 0x74).ok_or("directory")?;
    let mini_start = u32_at(header, 0x3C).ok_or("header")?;
    if mini_start < MAXREGSECT {
        let mut minifat = Vec::new();
        for id in chain(&fat, mini_start)? {
            minifat.extend(f.words(id)?);
        }
        check_table(&minifat, "mini FAT")?;
        if let Some((start, size)) = workbook
            && size < u64::from(u32_at(header, 0x38).unwrap_or(4096))
        {
            let mut mini = Vec::new();
            for id in chain(&fat, root_start)? {
                mini.extend_from_slice(f.sector(id)?);
            }
            let mut stream = Vec::new();
            for id in chain(&minifat, start)? {
                let at = id as usize * 64;
                stream
                    .extend_from_slice(mini.get(at..(at + 64).min(mini.len())).unwrap_or_default());
            }
            return check_biff(&stream);
        }
    }
    if let Some((start, _)) = workbook {
        let mut stream = Vec::new();
        for id in chain(&fat, start)? {
            stream.extend_from_slice(f.sector(id)?);
        }
        return check_biff(&stream);
    }
    Ok(())
}

/// The sheet sizes a BIFF stream implies: the reader reserves room for
/// rows × columns cells, both from the declared dimensions and from the
/// farthest cells, so a forged size or a stray far cell would exhaust memory.
fn check_biff(stream: &[u8]) -> Result<(), String> {
    // The reader reads each sheet from the offset its BOUNDSHEET record
    // gives, wherever that lands: scan from there too, not only in order.
    let mut starts = vec![0usize];
    let mut at = 0;
    while at + 4 <= stream.len() {
        let typ = u16_at(stream, at).unwrap_or(0);
        let len = u16_at(stream, at + 2).unwrap_or(0) as usize;
        if typ == 0x0085
            && let Some(pos) = u32_at(stream, at + 4)
        {
            starts.push(pos as usize);
        }
        at += 4 + len;
    }
    starts.sort_unstable();
    starts.dedup();
    if starts.len() > 1_000 {
        return Err("quá nhiều sheet".into());
    }
    for start in starts {
        check_records(stream, start)?;
    }
    Ok(())
}

fn check_records(stream: &[u8], from: usize) -> Result<(), String> {
    const MAX_CELLS: u64 = 4_000_000;
    // (min row, max row, min col, max col) of the cells of the current sheet.
    let mut span: Option<(u64, u64, u64, u64)> = None;
    let check_span = |span: &mut Option<(u64, u64, u64, u64)>| -> Result<(), String> {
        if let Some((r0, r1, c0, c1)) = span.take()
            && (r1 - r0 + 1).saturating_mul(c1 - c0 + 1) > MAX_CELLS
        {
            return Err(format!(
                "một sheet có ô ở tận dòng {} cột {}",
                r1 + 1,
                c1 + 1
            ));
        }
        Ok(())
    };
    let mut at = from;
    while at + 4 <= stream.len() {
        let typ = u16_at(stream, at).unwrap_or(0);
        let len = u16_at(stream, at + 2).unwrap_or(0) as usize;
        let data = stream
            .get(at + 4..(at + 4 + len).min(stream.len()))
            .unwrap_or_default();
        match typ {
            0x0200 => {
                // As the reader reads it: BIFF8 has 32-bit rows; a first
                // column past 0xFF or after the last one counts as 0.
                let (rf, rl, cf, cl) = match len {
                    14 | 16 => (
                        u64::from(u32_at(data, 0).unwrap_or(0)),
                        u64::from(u32_at(data, 4).unwrap_or(0)),
                        u64::from(u16_at(data, 8).unwrap_or(0)),
                        u64::from(u16_at(data, 10).unwrap_or(0)),
                    ),
                    _ => (
                        u64::from(u16_at(data, 0).unwrap_or(0)),
                        u64::from(u16_at(data, 2).unwrap_or(0)),
                        u64::from(u16_at(data, 4).unwrap_or(0)),
                        u64::from(u16_at(data, 6).unwrap_or(0)),
                    ),
                };
                let cf = if cf > 0xFF || cl < cf { 0 } else { cf };
                if rl >= 1 && cl >= 1 {
                    if rf > rl - 1 {
                        return Err("kích thước sheet khai ngược (dòng đầu sau dòng cuối)".into());
                    }
                    let (rows, cols) = (rl - rf, cl - cf);
                    if rows.saturating_mul(cols) > MAX_CELLS {
                        return Err(format!(
                            "một sheet khai kích thước {rows} dòng × {cols} cột"
                        ));
                    }
                }
            }
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 | 0x00BD => {
                let row = u16_at(data, 0);
                let first = u16_at(data, 2);
                // MULRK ends with its last column.
                let last = if typ == 0x00BD && data.len() >= 6 {
                    u16_at(data, data.len() - 2)
                } else {
                    first
                };
                if let (Some(r), Some(c0), Some(c1)) = (row, first, last) {
                    let (r, c0, c1) = (u64::from(r), u64::from(c0), u64::from(c1.max(c0)));
                    let s = span.get_or_insert((r, r, c0, c1));
                    *s = (s.0.min(r), s.1.max(r), s.2.min(c0), s.3.max(c1));
                }
            }
            0x000A | 0x0809 => check_span(&mut span)?,
            _ => {}
        }
        at += 4 + len;
    }
    check_span(&mut span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_looping_chain_is_found() {
        assert!(check_table(&[1, 2, 0], "FAT").is_err());
        assert!(check_table(&[1, 2, ENDOFCHAIN, 0xFFFF_FFFF], "FAT").is_ok());
        assert!(
            check_table(&[7], "FAT").is_err(),
            "a pointer out of the table"
        );
    }
}
