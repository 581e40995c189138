mod common;
#[test]
fn print_codes() {
    for r in [common::chengkou(), common::xuchang()] {
        let codes: Vec<_> = r.rules.iter().map(|x| x.code.clone()).collect();
        println!("{}", codes.join(" "));
        for (i, s) in r.sections.iter().enumerate() {
            println!("section {i} = {}", r.indicators[*s].code);
        }
    }
}
