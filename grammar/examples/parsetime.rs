fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let t = std::time::Instant::now();
    let n = runj_grammar::pest_only(&text);
    eprintln!("pest only: {:?} pairs={n}", t.elapsed());
    let t = std::time::Instant::now();
    let c = runj_grammar::parse(&text).unwrap();
    eprintln!("parse+build: {:?} items={}", t.elapsed(), c.items.len());
}
